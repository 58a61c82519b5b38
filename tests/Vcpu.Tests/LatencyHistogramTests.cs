using HdrHistogram;
using HekiActors.Protocol;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Vcpu.Tests;

/// <summary>The report's percentile definition: nearest rank over buckets, each bucket's middle, never above the exact maximum.</summary>
public sealed class LatencyHistogramTests
{
    [Fact]
    public void Small_values_are_exact_and_percentiles_take_the_nearest_rank()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 20; v++)
            histogram.Record(v);

        var snapshot = histogram.ToSnapshot();

        Assert.Equal(20, snapshot.Count);
        Assert.Equal(10, snapshot.ValueAt(50));
        Assert.Equal(18, snapshot.ValueAt(90));
        Assert.Equal(1, snapshot.ValueAt(0));
        Assert.Equal(20, snapshot.ValueAt(100));
    }

    [Fact]
    public void A_large_value_reads_as_the_middle_of_its_bucket_but_never_above_the_maximum()
    {
        var histogram = new LatencyHistogram();
        // 992..1023 is one bucket 32 wide (16 buckets per power of two above 32): it reads as its middle, 1008.
        histogram.Record(1000, 3);
        histogram.Record(1_000_000);

        var snapshot = histogram.ToSnapshot();

        Assert.Equal(992 + 16, snapshot.ValueAt(50));
        Assert.InRange(snapshot.ValueAt(100), 970_000, 1_000_000);
        Assert.Equal(1_000_000, snapshot.Max);

        // A bucket whose middle lies above the maximum reads as the maximum.
        var one = new LatencyHistogram();
        one.Record(1000);
        Assert.Equal(1000, one.ToSnapshot().ValueAt(50));
    }

    [Fact]
    public void Snapshots_add_up_to_the_histogram_of_all_values()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        var all = new LatencyHistogram();
        for (var v = 1L; v < 5_000_000; v = v * 3 + 1)
        {
            (v % 2 == 0 ? a : b).Record(v, v % 7 + 1);
            all.Record(v, v % 7 + 1);
        }

        var sum = new LatencyHistogram();
        sum.Add(a.ToSnapshot());
        sum.Add(b.ToSnapshot());

        Assert.Equal(string.Join(",", all.ToSnapshot().Values), string.Join(",", sum.ToSnapshot().Values));
        Assert.Equal(string.Join(",", all.ToSnapshot().Counts), string.Join(",", sum.ToSnapshot().Counts));
        Assert.Equal(all.Max, sum.Max);
        foreach (var p in new[] { 50.0, 90, 99, 100 })
            Assert.Equal(all.ToSnapshot().ValueAt(p), sum.ToSnapshot().ValueAt(p));
    }

    [Fact]
    public void Percentiles_equal_those_of_the_histogram_the_report_used_before()
    {
        var random = new Random(12345);
        for (var trial = 0; trial < 200; trial++)
        {
            var current = new LatencyHistogram();
            var previous = new PreviousLatencyHistogram();
            var n = random.Next(1, 300);
            for (var i = 0; i < n; i++)
            {
                var value = (long)Math.Pow(10, random.NextDouble() * 12); // 1 ps .. 1 s
                var count = random.Next(1, 5);
                current.Record(value, count);
                previous.Record(value, count);
            }

            var snapshot = current.ToSnapshot();
            Assert.Equal(previous.Count, snapshot.Count);
            Assert.Equal(previous.Max, snapshot.Max);
            foreach (var p in new[] { 0.0, 1, 50, 90, 99, 99.9, 100 })
                Assert.Equal(previous.ValueAt(p), snapshot.ValueAt(p));
        }
    }

    [Fact]
    public void Buckets_and_counts_equal_hdr_histograms_at_one_significant_digit_however_the_values_spread()
    {
        // Few values, many, narrow (a fast path) and wide (a slow path), with merges and resets between: the pairs, the
        // range and its widening must all read as HdrHistogram's LongHistogram reads the same values.
        var random = new Random(2026);
        for (var trial = 0; trial < 300; trial++)
        {
            var histogram = new LatencyHistogram();
            var reference = new LongHistogram(LatencyHistogram.HighestTrackable, numberOfSignificantValueDigits: 1);
            var low = Math.Pow(10, random.NextDouble() * 10);
            var decades = random.NextDouble() * 6;
            var n = random.Next(1, 500);
            for (var i = 0; i < n; i++)
            {
                var value = random.Next(20) == 0 ? random.Next(0, 40) : (long)(low * Math.Pow(10, random.NextDouble() * decades));
                if (random.Next(50) == 0)
                    value = LatencyHistogram.HighestTrackable + random.Next(1000); // clamped
                var count = random.Next(1, 4);
                histogram.Record(value, count);
                reference.RecordValueWithCount(Math.Min(value, LatencyHistogram.HighestTrackable), count);
                if (random.Next(200) == 0)
                {
                    // Through a snapshot into a fresh histogram: the same buckets.
                    var copy = new LatencyHistogram();
                    copy.Add(histogram.ToSnapshot());
                    histogram = copy;
                }
            }

            AssertSame(Walk(reference), histogram.ToSnapshot());
            if (trial % 10 == 0)
            {
                histogram.Reset();
                reference.Reset();
                histogram.Record(1234, 2);
                reference.RecordValueWithCount(1234, 2);
                AssertSame(Walk(reference), histogram.ToSnapshot());
            }
        }
    }

    private static void AssertSame(LatencySnapshot expected, LatencySnapshot actual)
    {
        Assert.Equal(expected.Values.ToArray(), actual.Values.ToArray());
        Assert.Equal(expected.Counts.ToArray(), actual.Counts.ToArray());
    }

    /// <summary>HdrHistogram's non-empty buckets, each as its middle (walked by value: its own iterators are 32-bit wide).</summary>
    private static LatencySnapshot Walk(LongHistogram reference)
    {
        var values = new List<long>();
        var counts = new List<long>();
        for (long lowest = 0; lowest <= LatencyHistogram.HighestTrackable;)
        {
            var width = lowest < 32 ? 1 : (1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)lowest))) / 16;
            var count = reference.GetCountAtValue(lowest);
            if (count > 0)
            {
                values.Add(lowest + width / 2);
                counts.Add(count);
            }

            lowest += width;
        }

        return new LatencySnapshot([.. values], [.. counts], 0);
    }
}
