using System.Collections.Immutable;
using HdrHistogram;
using HekiActors.Protocol;

namespace HekiActors.Vcpu.Workload;

/// <summary>
/// A latency histogram in picoseconds on HdrHistogram: one significant digit (32 unit buckets, then 16 per power of
/// two, about 3% wide), values clamped to 2^48 ps (about 281 s), plus the exact maximum. Recording allocates nothing after the first value.
/// One owner records; what crosses to another actor is a <see cref="LatencySnapshot"/>.
/// </summary>
/// <remarks>
/// HdrHistogram allocates all its buckets up front (about 6 KB here), and every VM holds nine of these (three per vCPU,
/// three in its guest's totals) that stay empty until its workload runs, or for the totals until the run ends: so the
/// buckets are allocated on the first value (issue 11: they were more than half of a booted VM's heap).
/// </remarks>
public sealed class LatencyHistogram
{
    /// <summary>Largest value kept apart (larger ones count as this).</summary>
    public const long HighestTrackable = 1L << 48;

    // One significant digit: values below 32 exact, then 16 buckets per power of two.
    private const long UnitBuckets = 32;
    private const long BucketsPerOctave = 16;

    private LongHistogram? _histogram;

    public long Count => _histogram?.TotalCount ?? 0;

    /// <summary>The largest value recorded (exact).</summary>
    public long Max { get; private set; }

    public bool IsEmpty => Count == 0;

    private LongHistogram Buckets => _histogram ??= new LongHistogram(HighestTrackable, numberOfSignificantValueDigits: 1);

    /// <summary>Records <paramref name="count"/> occurrences of <paramref name="picoseconds"/>.</summary>
    public void Record(long picoseconds, long count = 1)
    {
        if (count <= 0)
            return;
        picoseconds = Math.Clamp(picoseconds, 0, HighestTrackable);
        Buckets.RecordValueWithCount(picoseconds, count);
        if (picoseconds > Max)
            Max = picoseconds;
    }

    /// <summary>Adds a snapshot's counts (each lands in the bucket it came from).</summary>
    public void Add(LatencySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.IsEmpty)
            return;
        // Each representative value lands in its own bucket; the maximum is the snapshot's exact one.
        for (var i = 0; i < snapshot.Values.Length; i++)
        {
            if (snapshot.Counts[i] > 0)
                Buckets.RecordValueWithCount(Math.Clamp(snapshot.Values[i], 0, HighestTrackable), snapshot.Counts[i]);
        }

        Max = Math.Max(Max, snapshot.Max);
    }

    /// <summary>The distribution so far, as an immutable value: each non-empty bucket's middle and count.</summary>
    public LatencySnapshot ToSnapshot()
    {
        if (_histogram is null || _histogram.TotalCount == 0)
            return LatencySnapshot.Empty;
        var values = ImmutableArray.CreateBuilder<long>();
        var counts = ImmutableArray.CreateBuilder<long>();
        // The buckets are walked here rather than with RecordedValues()/MedianEquivalentValue(): HdrHistogram 2.5.0
        // computes a bucket's width in 32 bits, so both go wrong for buckets 2^31 ps wide and more (values from
        // about 34 ms). Its counts themselves are right at every value.
        var remaining = _histogram.TotalCount;
        for (long lowest = 0, width = 1; remaining > 0 && lowest <= HighestTrackable; lowest += width)
        {
            if (lowest >= UnitBuckets && (lowest & (lowest - 1)) == 0)
                width = lowest / BucketsPerOctave; // a new power of two: 16 buckets across it
            var count = _histogram.GetCountAtValue(lowest);
            if (count == 0)
                continue;
            values.Add(lowest + width / 2);
            counts.Add(count);
            remaining -= count;
        }

        return new LatencySnapshot(values.ToImmutable(), counts.ToImmutable(), Max);
    }

    /// <summary>Empties the histogram for reuse.</summary>
    public void Reset()
    {
        _histogram?.Reset();
        Max = 0;
    }
}
