namespace HekiActors.Simulation.Tests;

/// <summary>
/// The per-VM memory guard (issue 11, docs/benchmarks.md "Memory per VM at 10,000 VMs"), for what a guest kernel keeps
/// for the report: its totals receive the vCPUs' latencies only when the run ends, so until then they hold no histogram
/// buckets (three sets of about 6 KB each were a fifth of a running VM's heap). Counted in bytes allocated: exact, not timed.
/// </summary>
public sealed class PerVmMemoryTests
{
    /// <summary>A guest's totals: counts, the attack arrays and its kernel counters; no histogram buckets.</summary>
    private const long TotalsBytes = 2_048;

    [Fact]
    public void A_guests_totals_hold_no_histogram_buckets_before_the_run_ends()
    {
        _ = new VmTotals(); // type loading and statics are not the VM's
        const int vms = 100;
        var held = new VmTotals[vms];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < vms; i++)
            held[i] = new VmTotals();
        var perVm = (GC.GetAllocatedBytesForCurrentThread() - before) / vms;

        Assert.True(perVm <= TotalsBytes, $"a guest's totals allocate {perVm} bytes (guard: {TotalsBytes})");
        Assert.True(held[0].FastPath.IsEmpty);
    }
}
