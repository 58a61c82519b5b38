using Akka.Event;
using HekiActors.Memory;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>§8: pr_warn_ratelimited per call site, 10 per 5 s; per VM in hardened, host-wide in heki-v2.</summary>
public class WarningRateLimitTests(ITestOutputHelper output) : ActorTestBase(output)
{
    private const string ImmutableA = "kvm: heki: Guest tried to change immutable permission for GFNs 10-14";
    private const string ImmutableB = "kvm: heki: Guest tried to change immutable permission for GFNs 20-24";

    private static readonly TimeSpan JustOverInterval = TimeSpan.FromSeconds(5) + TimeSpan.FromMilliseconds(1);

    /// <summary>A VM whose gfns [start, start + 4) are immutable.</summary>
    private void CreateVmWithImmutable(string vmId, ulong start, HekiProfile profile)
    {
        CreateVm(vmId, profile: profile);
        Assert.Equal(0, SetPermissions(vmId, start, start + 4, R | I));
    }

    private void Reject(string vmId, ulong start, int times)
    {
        for (var i = 0; i < times; i++)
            Assert.Equal(Errno.EPERM, SetPermissions(vmId, start, start + 4, R | W));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Burst_of_25_rejections_logs_10_warnings_then_a_suppression_line(HekiProfile profile)
    {
        CreateVmWithImmutable("a", 0x10, profile);

        EventFilter.Warning(message: ImmutableA).Expect(10, () =>
        {
            Reject("a", 0x10, 25);
            FlushWarnings();
        });
        var stats = Stats();
        Assert.Equal(10, stats.EmittedAt(WarningSite.ImmutableChange));
        Assert.Equal(15, stats.SuppressedAt(WarningSite.ImmutableChange));
        Assert.Equal(0, stats.SuppressionNotices);

        Clock.Advance(JustOverInterval);
        var lines = CapturePrinted(() => Reject("a", 0x10, 1));
        Assert.Equal(["kvm_permissions_set: 15 callbacks suppressed", ImmutableA], lines);

        stats = Stats();
        Assert.Equal(11, stats.EmittedAt(WarningSite.ImmutableChange));
        Assert.Equal(15, stats.SuppressedAt(WarningSite.ImmutableChange));
        Assert.Equal(1, stats.SuppressionNotices);
    }

    [Fact]
    public void Burst_printed_lines_are_exactly_10_warnings_in_order()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.Hardened);
        var lines = CapturePrinted(() => Reject("a", 0x10, 25));
        Assert.Equal(Enumerable.Repeat(ImmutableA, 10), lines);
    }

    [Fact]
    public void Exactly_5_seconds_later_the_interval_has_not_ended_yet()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.Hardened);
        Reject("a", 0x10, 25);
        Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(CapturePrinted(() => Reject("a", 0x10, 1)));
        Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(["kvm_permissions_set: 16 callbacks suppressed", ImmutableA], CapturePrinted(() => Reject("a", 0x10, 1)));
        // A new interval: nine more fit in it before suppression starts again.
        Assert.Equal(Enumerable.Repeat(ImmutableA, 9), CapturePrinted(() => Reject("a", 0x10, 12)));
    }

    [Fact]
    public void Hardened_limits_are_per_VM()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.Hardened);
        CreateVmWithImmutable("b", 0x20, HekiProfile.Hardened);
        Reject("a", 0x10, 25);
        EventFilter.Warning(message: ImmutableB).Expect(10, () =>
        {
            Reject("b", 0x20, 10);
            FlushWarnings();
        });
        var lines = CapturePrinted(() =>
        {
            Reject("a", 0x10, 1);
            Reject("b", 0x20, 3);
        });
        Assert.Empty(lines);
        var stats = Stats();
        Assert.Equal(20, stats.EmittedAt(WarningSite.ImmutableChange));
        Assert.Equal(16 + 3, stats.SuppressedAt(WarningSite.ImmutableChange));

        // Each VM reports its own suppressed count.
        Clock.Advance(JustOverInterval);
        Assert.Equal(["kvm_permissions_set: 3 callbacks suppressed", ImmutableB], CapturePrinted(() => Reject("b", 0x20, 1)));
        Assert.Equal(["kvm_permissions_set: 16 callbacks suppressed", ImmutableA], CapturePrinted(() => Reject("a", 0x10, 1)));
    }

    [Fact]
    public void HekiV2_limits_are_host_wide_so_one_VM_hides_anothers_warnings()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.HekiV2);
        CreateVmWithImmutable("b", 0x20, HekiProfile.HekiV2);
        var lines = CapturePrinted(() =>
        {
            Reject("a", 0x10, 25);
            Reject("b", 0x20, 5);
        });
        Assert.Equal(Enumerable.Repeat(ImmutableA, 10), lines);
        Assert.DoesNotContain(ImmutableB, lines);
        var stats = Stats();
        Assert.Equal(10, stats.EmittedAt(WarningSite.ImmutableChange));
        Assert.Equal(20, stats.SuppressedAt(WarningSite.ImmutableChange));

        Clock.Advance(JustOverInterval);
        Assert.Equal(["kvm_permissions_set: 20 callbacks suppressed", ImmutableB], CapturePrinted(() => Reject("b", 0x20, 1)));
    }

    [Fact]
    public void Each_call_site_has_its_own_limit()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.Hardened);
        Reject("a", 0x10, 25);
        // The fault site still has its whole burst.
        var lines = CapturePrinted(() =>
        {
            var done = Request<GuestAccessBatchDone>(new GuestAccessBatch("a", 1,
                Enumerable.Repeat(Gpa(0x10), 100).ToArray(), Enumerable.Repeat(AccessKind.Write, 100).ToArray(), null, false));
            Assert.Equal(100, done.Faulted);
        });
        Assert.Equal(Enumerable.Repeat("heki: Creating write #PF at 0x0000000000010000 GFN=10", 10), lines);
        var stats = Stats();
        Assert.Equal(10, stats.EmittedAt(WarningSite.Fault));
        Assert.Equal(90, stats.SuppressedAt(WarningSite.Fault));
        Assert.Equal(15, stats.SuppressedAt(WarningSite.ImmutableChange));

        Clock.Advance(JustOverInterval);
        Assert.Equal(
            ["mem_attr_fault: 90 callbacks suppressed", "heki: Creating write #PF at 0x0000000000010000 GFN=10"],
            CapturePrinted(() => Assert.Equal(AccessResult.PageFault, Access("a", 0, Gpa(0x10), AccessKind.Write))));
    }

    [Fact]
    public void Blocked_CR_writes_are_rate_limited_at_heki_check_cr()
    {
        CreateVm("a");
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));
        var lines = CapturePrinted(() =>
        {
            for (var i = 0; i < 12; i++)
                Assert.False(WriteCr("a", 1, 0, (ulong)i));
        });
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"heki: Blocked CR0 update: 0x{i:x}"), lines);
        Clock.Advance(JustOverInterval);
        Assert.Equal(["heki_check_cr: 2 callbacks suppressed", "heki: Blocked CR0 update: 0xabc"],
            CapturePrinted(() => Assert.False(WriteCr("a", 1, 0, 0xABC))));
        Assert.Equal(2, Stats().SuppressedAt(WarningSite.BlockedCr));
    }

    [Fact]
    public void HekiV2_request_to_protect_lines_are_unthrottled()
    {
        CreateVm("a", profile: HekiProfile.HekiV2);
        EventFilter.Warning(start: "heki: Request to protect GFNs ").Expect(25, () =>
        {
            for (ulong i = 0; i < 25; i++)
                Assert.Equal(0, Protect("a", 0, Gfns(0x100 + i, 0x101 + i, R | X)));
            FlushWarnings();
        });
        var stats = Stats();
        Assert.Equal(25, stats.EmittedAt(WarningSite.ProtectRequest));
        Assert.Equal(0, stats.SuppressedAt(WarningSite.ProtectRequest));
    }

    [Fact]
    public void Hardened_request_to_protect_lines_are_rate_limited()
    {
        CreateVm("a", profile: HekiProfile.Hardened);
        var lines = CapturePrinted(() =>
        {
            for (ulong i = 0; i < 25; i++)
                Assert.Equal(0, Protect("a", 0, Gfns(0x100 + i, 0x101 + i, R | X)));
        });
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"heki: Request to protect GFNs {0x100 + i:x}-{0x101 + i:x} with mutable permissions=r_x"), lines);
        var stats = Stats();
        Assert.Equal(10, stats.EmittedAt(WarningSite.ProtectRequest));
        Assert.Equal(15, stats.SuppressedAt(WarningSite.ProtectRequest));
        Clock.Advance(JustOverInterval);
        Assert.Equal(
            ["heki_protect_memory: 15 callbacks suppressed", "heki: Request to protect GFNs 200-201 with mutable permissions=r_x"],
            CapturePrinted(() => Assert.Equal(0, Protect("a", 0, Gfns(0x200, 0x201, R | X)))));
    }

    private void DestroyVm(string vmId) => Assert.IsType<VmDestroyed>(Request(new DestroyVm(vmId, Guid.NewGuid())));

    [Fact]
    public void Hardened_a_VM_created_again_under_a_destroyed_VMs_id_starts_with_fresh_limits()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.Hardened);
        Reject("a", 0x10, 25);
        var lines = CapturePrinted(() =>
        {
            Assert.Equal(AccessResult.PageFault, Access("a", 0, Gpa(0x10), AccessKind.Write));
            for (var i = 0; i < 11; i++)
                Access("a", 1, Gpa(0x10), AccessKind.Write);
        });
        Assert.Equal(10, lines.Count);

        DestroyVm("a");
        CreateVmWithImmutable("a", 0x10, HekiProfile.Hardened);

        // The new VM's first warnings at both sites are printed, and no notice speaks of the old VM's suppressions.
        Assert.Equal(Enumerable.Repeat(ImmutableA, 10), CapturePrinted(() => Reject("a", 0x10, 12)));
        Assert.Equal(["heki: Creating write #PF at 0x0000000000010000 GFN=10"],
            CapturePrinted(() => Assert.Equal(AccessResult.PageFault, Access("a", 0, Gpa(0x10), AccessKind.Write))));
        Clock.Advance(JustOverInterval);
        Assert.Equal(["kvm_permissions_set: 2 callbacks suppressed", ImmutableA], CapturePrinted(() => Reject("a", 0x10, 1)));
        // Counts are the host's: they keep what the old VM emitted and suppressed.
        var stats = Stats();
        Assert.Equal(21, stats.EmittedAt(WarningSite.ImmutableChange));
        Assert.Equal(15 + 2, stats.SuppressedAt(WarningSite.ImmutableChange));
    }

    [Fact]
    public void Hardened_a_destroyed_VMs_limits_do_not_touch_other_VMs()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.Hardened);
        CreateVmWithImmutable("b", 0x20, HekiProfile.Hardened);
        Reject("b", 0x20, 25);
        DestroyVm("a");
        Assert.Empty(CapturePrinted(() => Reject("b", 0x20, 1)));
    }

    [Fact]
    public void HekiV2_limits_stay_host_wide_across_destroy_and_create()
    {
        CreateVmWithImmutable("a", 0x10, HekiProfile.HekiV2);
        Reject("a", 0x10, 25);
        DestroyVm("a");
        CreateVmWithImmutable("a", 0x10, HekiProfile.HekiV2);
        Assert.Empty(CapturePrinted(() => Reject("a", 0x10, 3)));
        Clock.Advance(JustOverInterval);
        Assert.Equal(["kvm_permissions_set: 18 callbacks suppressed", ImmutableA], CapturePrinted(() => Reject("a", 0x10, 1)));
    }
}
