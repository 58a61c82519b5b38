using System.Runtime.CompilerServices;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Live;

namespace HekiActors.Simulation.Tests.Live;

/// <summary>
/// A VM's recent events (issue 14, docs/benchmarks.md "Responsiveness at 10,000 VMs (third pass)"): kept as values, so
/// the reports the VMs sent do not live on in the run-long list (each one kept there was a young object hanging off an
/// old one, scanned by every young collection), and shown exactly as the report would be.
/// </summary>
public sealed class VmEventTests
{
    [Fact]
    public void A_fault_event_keeps_no_reference_to_the_report_it_was_made_from()
    {
        var (events, report) = EventsOf(() => new FaultReport("vm-3", HekiProfile.Hardened, AccessKind.Write, 0x5000, "00-trace"));

        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.False(report.TryGetTarget(out _), "the FaultReport is still reachable from its event");
        Assert.Equal("#PF write", events[0].What);
        Assert.Equal(HekiWarnings.Fault(AccessKind.Write, 0x5000, 5), events[0].Text);
        Assert.Equal(new FaultReport("vm-3", HekiProfile.Hardened, AccessKind.Write, 0x5000), events[0].Report);
    }

    [Fact]
    public void A_warning_event_keeps_its_text_not_the_report()
    {
        var (events, report) = EventsOf(() => new WarningReport("vm-1", HekiProfile.HekiV2, WarningSite.BlockedCr, "heki: CR4 pin", "00-trace"));

        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.False(report.TryGetTarget(out _), "the WarningReport is still reachable from its event");
        Assert.Equal("CR-pin #GP", events[0].What);
        Assert.Equal("heki: CR4 pin", events[0].Text);
        Assert.Equal(new WarningReport("vm-1", HekiProfile.HekiV2, WarningSite.BlockedCr, "heki: CR4 pin"), events[0].Report);
    }

    [Theory]
    [InlineData(WarningSite.ImmutableChange, "immutable change refused")]
    [InlineData(WarningSite.ClearingExec, "exec clear needs MBEC")]
    [InlineData(WarningSite.ProtectRequest, "protect request")]
    public void A_warning_is_named_by_its_site(WarningSite site, string what)
    {
        var e = new VmEvent(1.5, new WarningReport("vm", HekiProfile.Hardened, site, "text"), printed: false);
        Assert.Equal(what, e.What);
        Assert.Equal("1.500s " + what + ": text (suppressed)", e.ToString());
    }

    // The report is made and dropped in a frame of its own, so only the event could keep it alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (VmEvent[] Events, WeakReference<IWarningReport> Report) EventsOf(Func<IWarningReport> make)
    {
        var report = make();
        return ([new VmEvent(2.0, report, printed: true)], new WeakReference<IWarningReport>(report));
    }
}
