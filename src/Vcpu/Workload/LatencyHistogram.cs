using System.Collections.Immutable;
using HdrHistogram;
using HekiActors.Protocol;

namespace HekiActors.Vcpu.Workload;

/// <summary>
/// A latency histogram in picoseconds on HdrHistogram: one significant digit (32 unit buckets, then 16 per power of
/// two, about 3% wide), values clamped to 2^48 ps (about 281 s), plus the exact maximum. Recording allocates at most
/// twice (the first value's few-bucket arrays, the 17th distinct bucket's full histogram), then nothing.
/// One owner records; what crosses to another actor is a <see cref="LatencySnapshot"/>.
/// </summary>
/// <remarks>
/// HdrHistogram allocates all its buckets up front (about 6 KB here), and every VM holds nine of these (three per vCPU,
/// three in its guest's totals) that stay empty until its workload runs, or for the totals until the run ends: so the
/// buckets are allocated only once a 17th distinct bucket is recorded (issue 11: they were more than half of a booted
/// VM's heap; a booted VM records a few hypercall latencies per vCPU).
/// </remarks>
public sealed class LatencyHistogram
{
    /// <summary>Largest value kept apart (larger ones count as this).</summary>
    public const long HighestTrackable = 1L << 48;

    // One significant digit: values below 32 exact, then 16 buckets per power of two.
    private const long UnitBuckets = 32;
    private const long BucketsPerOctave = 16;

    // Up to this many distinct buckets are kept as (bucket, count) pairs (256 bytes) before HdrHistogram's ~6 KB of
    // buckets are allocated: a booted VM's vCPUs record a handful of hypercall latencies each, and 10,000 VMs need
    // not hold 12 KB a VM for that (issue 11). A running workload moves to the full histogram within its first chunks.
    private const int FewBuckets = 16;

    private LongHistogram? _histogram;
    private long[]? _fewLowest;
    private long[]? _fewCounts;
    private int _few;
    private long _fewTotal;

    public long Count => _histogram?.TotalCount ?? _fewTotal;

    /// <summary>The largest value recorded (exact).</summary>
    public long Max { get; private set; }

    public bool IsEmpty => Count == 0;

    /// <summary>Records <paramref name="count"/> occurrences of <paramref name="picoseconds"/>.</summary>
    public void Record(long picoseconds, long count = 1)
    {
        if (count <= 0)
            return;
        picoseconds = Math.Clamp(picoseconds, 0, HighestTrackable);
        RecordClamped(picoseconds, count);
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
                RecordClamped(Math.Clamp(snapshot.Values[i], 0, HighestTrackable), snapshot.Counts[i]);
        }

        Max = Math.Max(Max, snapshot.Max);
    }

    private void RecordClamped(long value, long count)
    {
        if (_histogram is { } histogram)
        {
            histogram.RecordValueWithCount(value, count);
            return;
        }

        var lowest = BucketLowest(value);
        for (var i = 0; i < _few; i++)
        {
            if (_fewLowest![i] == lowest)
            {
                _fewCounts![i] += count;
                _fewTotal += count;
                return;
            }
        }

        if (_few < FewBuckets)
        {
            _fewLowest ??= new long[FewBuckets];
            _fewCounts ??= new long[FewBuckets];
            _fewLowest[_few] = lowest;
            _fewCounts[_few] = count;
            _few++;
            _fewTotal += count;
            return;
        }

        // One bucket too many: the full histogram takes over (each bucket's lowest value lands in that same bucket).
        histogram = new LongHistogram(HighestTrackable, numberOfSignificantValueDigits: 1);
        for (var i = 0; i < _few; i++)
            histogram.RecordValueWithCount(_fewLowest![i], _fewCounts![i]);
        histogram.RecordValueWithCount(value, count);
        _histogram = histogram;
        _fewLowest = _fewCounts = null;
        _few = 0;
        _fewTotal = 0;
    }

    /// <summary>The lowest value of <paramref name="value"/>'s bucket: exact below 32, then 16 buckets per power of two.</summary>
    private static long BucketLowest(long value)
    {
        if (value < UnitBuckets)
            return value;
        var width = WidthAt(value);
        return value & ~(width - 1);
    }

    private static long WidthAt(long value) =>
        value < UnitBuckets ? 1 : (1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value))) / BucketsPerOctave;

    /// <summary>The distribution so far, as an immutable value: each non-empty bucket's middle and count.</summary>
    public LatencySnapshot ToSnapshot()
    {
        if (_histogram is null)
            return FewToSnapshot();
        if (_histogram.TotalCount == 0)
            return LatencySnapshot.Empty;
        var values = ImmutableArray.CreateBuilder<long>();
        var counts = ImmutableArray.CreateBuilder<long>();
        // The buckets are walked here rather than with RecordedValues()/MedianEquivalentValue(): HdrHistogram 2.5.0
        // computes a bucket's width in 32 bits, so both go wrong for buckets 2^31 ps wide and more (values from
        // about 34 ms). Its counts themselves are right at every value.
        var remaining = _histogram.TotalCount;
        for (long lowest = 0; remaining > 0 && lowest <= HighestTrackable; lowest += WidthAt(lowest))
        {
            var width = WidthAt(lowest); // 1 below 32, then 16 buckets across each power of two
            var count = _histogram.GetCountAtValue(lowest);
            if (count == 0)
                continue;
            values.Add(lowest + width / 2);
            counts.Add(count);
            remaining -= count;
        }

        return new LatencySnapshot(values.ToImmutable(), counts.ToImmutable(), Max);
    }

    private LatencySnapshot FewToSnapshot()
    {
        if (_fewTotal == 0)
            return LatencySnapshot.Empty;
        var lowest = _fewLowest.AsSpan(0, _few).ToArray();
        var counts = _fewCounts.AsSpan(0, _few).ToArray();
        Array.Sort(lowest, counts);
        var values = ImmutableArray.CreateBuilder<long>(_few);
        for (var i = 0; i < lowest.Length; i++)
            values.Add(lowest[i] + WidthAt(lowest[i]) / 2); // the bucket's middle, as the walk over the full histogram reads it
        return new LatencySnapshot(values.MoveToImmutable(), ImmutableArray.Create(counts), Max);
    }

    /// <summary>Empties the histogram for reuse (a full one keeps its buckets).</summary>
    public void Reset()
    {
        _histogram?.Reset();
        _few = 0;
        _fewTotal = 0;
        Max = 0;
    }
}
