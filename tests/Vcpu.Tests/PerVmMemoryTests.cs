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

    /// <summary>A histogram's few-bucket start: two arrays of sixteen longs.</summary>
    private const long FewBucketsBytes = 320;

    [Fact]
    public void A_histogram_holds_up_to_sixteen_buckets_in_small_arrays_allocates_its_full_buckets_once_at_the_seventeenth_and_never_after()
    {
        // Type initializers and first calls are not the histogram's: each path runs once before measuring.
        var warm = new LatencyHistogram();
        _ = warm.IsEmpty && warm.ToSnapshot().IsEmpty;
        warm.Record(1);
        _ = warm.ToSnapshot();
        for (var v = 1L; v < 1_000_000; v *= 3)
            warm.Record(v);
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
        before = GC.GetAllocatedBytesForCurrentThread();
        histogram.Record(1_000, 2); // same bucket
        for (var v = 1L; v <= 15; v++)
            histogram.Record(v, 7); // sixteen distinct buckets
        var few = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        histogram.Record(27, 7); // the seventeenth
        var full = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var v = 81L; v < 1_000; v *= 3)
            histogram.Record(v, 7);
        var recording = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.InRange(first, 1, FewBucketsBytes);
        Assert.Equal(0, few);
        Assert.InRange(full, FewBucketsBytes + 1, BucketsBytes);
        Assert.Equal(0, recording);
        Assert.Equal(3 + 15 * 7 + 4 * 7, histogram.Count);
        Assert.Equal(1_000, histogram.ToSnapshot().Max);
    }

    [Fact]
    public void A_histogram_reads_the_same_before_and_after_its_full_buckets_take_over()
    {
        var random = new Random(2026);
        for (var trial = 0; trial < 500; trial++)
        {
            var few = new LatencyHistogram();
            var reference = new LatencyHistogram();
            for (var v = 1L; v < 1_000_000; v *= 3)
                reference.Record(v); // past the few-bucket start from here on
            reference.Reset();
            var distinct = random.Next(1, 25);
            for (var i = 0; i < distinct; i++)
            {
                var value = random.Next(4) == 0 ? random.Next(0, 40) : (long)Math.Pow(10, random.NextDouble() * 14.5);
                var count = random.Next(1, 4);
                few.Record(value, count);
                reference.Record(value, count);
            }

            var a = few.ToSnapshot();
            var b = reference.ToSnapshot();
            Assert.Equal(b.Values.ToArray(), a.Values.ToArray());
            Assert.Equal(b.Counts.ToArray(), a.Counts.ToArray());
            Assert.Equal(b.Max, a.Max);
        }
    }
}
