using HekiActors.Vcpu.Workload;

namespace HekiActors.Vcpu.Tests;

/// <summary>
/// The per-VM memory guard (issue 11, docs/benchmarks.md "Memory per VM at 10,000 VMs"): what a vCPU keeps for the report
/// is counted in bytes allocated, which are exact and do not depend on the machine's speed or load. A booted vCPU that
/// has not run its workload holds no histogram buckets; one that ran holds one set per latency it recorded.
/// </summary>
public sealed class PerVmMemoryTests
{
    /// <summary>A vCPU's counters before its workload runs: a few small arrays, no histogram buckets (each set is about 6 KB).</summary>
    private const long IdleCountersBytes = 1_024;

    /// <summary>One histogram's buckets (HdrHistogram, one significant digit up to 2^48 ps): allocated with its first value.</summary>
    private const long BucketsBytes = 8_192;

    [Fact]
    public void A_vcpus_counters_hold_no_histogram_buckets_until_it_records_a_latency()
    {
        _ = new VcpuCounters(); // type loading and statics are not the vCPU's
        const int vcpus = 100;
        var held = new VcpuCounters[vcpus];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < vcpus; i++)
            held[i] = new VcpuCounters();
        var perVcpu = (GC.GetAllocatedBytesForCurrentThread() - before) / vcpus;

        Assert.True(perVcpu <= IdleCountersBytes, $"an idle vCPU's counters allocate {perVcpu} bytes (guard: {IdleCountersBytes})");
        GC.KeepAlive(held);
    }

    [Fact]
    public void A_histogram_allocates_its_buckets_once_on_its_first_value_and_never_while_recording()
    {
        var warm = new LatencyHistogram();
        _ = warm.ToSnapshot(); // the empty snapshot's type initializer
        warm.Record(1);
        _ = warm.ToSnapshot();
        var histogram = new LatencyHistogram();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var empty = histogram.IsEmpty && histogram.ToSnapshot().IsEmpty;
        var idle = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(empty);
        Assert.Equal(0, idle);

        before = GC.GetAllocatedBytesForCurrentThread();
        histogram.Record(1_000);
        var first = GC.GetAllocatedBytesForCurrentThread() - before;
        for (var v = 1L; v < 1_000; v *= 3)
            histogram.Record(v, 7);
        var recording = GC.GetAllocatedBytesForCurrentThread() - before - first;
        Assert.InRange(first, 1, BucketsBytes);
        Assert.Equal(0, recording);
        Assert.Equal(1 + 7 * 7, histogram.Count);
        Assert.Equal(1_000, histogram.ToSnapshot().Max);
    }
}
