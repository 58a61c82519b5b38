using HekiActors.Vcpu.Workload;

namespace HekiActors.Vcpu.Tests;

/// <summary>
/// The per-VM memory guard (issue 11, docs/benchmarks.md "Memory per VM at 10,000 VMs"): what a vCPU keeps for the report
/// is counted in bytes allocated, which are exact and do not depend on the machine's speed or load. A booted vCPU that
/// has not run its workload holds no histogram buckets; one that ran holds the buckets its latencies landed in.
/// </summary>
public sealed class PerVmMemoryTests
{
    /// <summary>A vCPU's counters before its workload runs: a few small arrays, no histogram buckets (each set is about 6 KB).</summary>
    private const long IdleCountersBytes = 1_024;

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

    /// <summary>HdrHistogram's LongHistogram at this layout (721 buckets), which each of a vCPU's histograms held before.</summary>
    private const long FullBucketsBytes = 721 * sizeof(long);

    [Fact]
    public void A_histogram_allocates_nothing_empty_a_few_pairs_for_its_first_values_and_nothing_for_a_bucket_it_holds()
    {
        // Type initializers and first calls are not the histogram's: each path runs once before measuring.
        var warm = new LatencyHistogram();
        _ = warm.IsEmpty && warm.ToSnapshot().IsEmpty;
        for (var v = 1L; v < 1_000_000_000; v = v * 5 / 4 + 1)
            warm.Record(v);
        _ = warm.ToSnapshot();

        var histogram = new LatencyHistogram();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var empty = histogram.IsEmpty && histogram.ToSnapshot().IsEmpty;
        Assert.True(empty);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        before = GC.GetAllocatedBytesForCurrentThread();
        histogram.Record(1_000_000); // a hypercall of 1 µs: two arrays of four
        histogram.Record(3_000_000);
        histogram.Record(40_000_000, 2);
        var first = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(first, 1, 128);

        // A spread of values over 2 ns .. 4 s, then the same values again: the second pass allocates nothing.
        for (var v = 2_000L; v < 4_000_000_000_000; v = v * 9 / 8)
            histogram.Record(v);
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var v = 2_000L; v < 4_000_000_000_000; v = v * 9 / 8)
            histogram.Record(v, 3);
        histogram.Record(1_000_000, 5);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_translation_cache_grows_to_hold_every_run_it_is_given()
    {
        var cache = new HekiActors.Vcpu.Translation.TranslationCache();
        for (ulong run = 0; run < 100; run++)
        {
            cache.Insert(10 * run, 10 * run + 5, 0b111, null);
        }

        Assert.Equal(100, cache.Count);
        Assert.True(cache.TryLookupRun(992, out _, out var start, out var end));
        Assert.Equal((990UL, 995UL), (start, end));
    }

    [Fact]
    public void A_running_vcpus_latencies_take_a_fraction_of_hdr_histograms_buckets()
    {
        // What a vCPU of a 10,000-VM host records in a run (docs/benchmarks.md, third pass): a few hundred fast-path
        // groups of 0.5–60 ns an access, and tens of misses from 2 µs to 4 s. Deterministic values: the bytes are exact.
        var random = new Random(11);
        var (fastPath, fastPathHeld) = Allocated(h =>
        {
            for (var i = 0; i < 400; i++)
                h.Record((long)(500 * Math.Pow(120, random.NextDouble())), 512);
        });
        var (slowPath, slowPathHeld) = Allocated(h =>
        {
            for (var i = 0; i < 60; i++)
                h.Record((long)(2_000_000 * Math.Pow(2_000_000, random.NextDouble())));
        });

        // Held: a quarter of the 5,768 bytes HdrHistogram held from the first value. Allocated, the smaller arrays it
        // outgrew included: less than HdrHistogram's one allocation.
        Assert.True(fastPathHeld <= FullBucketsBytes / 4, $"a fast-path histogram holds {fastPathHeld} bytes (guard: {FullBucketsBytes / 4})");
        Assert.True(slowPathHeld <= FullBucketsBytes / 4, $"a slow-path histogram holds {slowPathHeld} bytes (guard: {FullBucketsBytes / 4})");
        Assert.True(fastPath <= FullBucketsBytes, $"a fast-path histogram allocated {fastPath} bytes (guard: {FullBucketsBytes})");
        Assert.True(slowPath <= FullBucketsBytes, $"a slow-path histogram allocated {slowPath} bytes (guard: {FullBucketsBytes})");
    }

    private static (long Allocated, long Held) Allocated(Action<LatencyHistogram> record)
    {
        record(new LatencyHistogram()); // first calls and type loading
        var histogram = new LatencyHistogram();
        var before = GC.GetAllocatedBytesForCurrentThread();
        record(histogram);
        return (GC.GetAllocatedBytesForCurrentThread() - before, histogram.HeldBytes);
    }
}
