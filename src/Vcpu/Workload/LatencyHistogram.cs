using System.Collections.Immutable;
using System.Numerics;
using HekiActors.Protocol;

namespace HekiActors.Vcpu.Workload;

/// <summary>
/// A latency histogram in picoseconds with HdrHistogram's layout at one significant digit (32 unit buckets, then 16 per
/// power of two, about 3% wide), values clamped to 2^48 ps (about 281 s), plus the exact maximum. It holds only what was
/// recorded: the non-empty buckets as sorted (bucket, count) pairs while they are few or spread thin, then the counts of
/// the range of buckets between the lowest and the highest value, grown when a value falls outside it. Recording
/// allocates only when a bucket is new (never once the buckets in use are known). One owner records; what crosses to
/// another actor is a <see cref="LatencySnapshot"/>.
/// </summary>
/// <remarks>
/// Issue 11: every vCPU of a 10,000-VM host keeps up to seven of these (fast path, slow path, hypercall, and the slow
/// path's and the hypercall's service and queueing). HdrHistogram's <c>LongHistogram</c>, used before, allocates all 721
/// buckets (about 6 KB) up front: about 30 KB a running vCPU, 600 MB at 10,000 VMs, the largest thing a running vCPU
/// allocated (docs/benchmarks.md, third pass). A running vCPU there records a few hundred latencies over tens of buckets. Same buckets, same snapshots (pinned against HdrHistogram by tests/Vcpu.Tests).
/// <para>Ordinary (young) arrays: allocating them on the pinned object heap, to keep young arrays from hanging off
/// run-long histograms (issue 14), made every allocation take the runtime's slow path: a 100,000-VM boot's run phase
/// went from 17 to 147 s (docs/benchmarks.md, issue 14 third pass, "Reverted").</para>
/// </remarks>
public sealed class LatencyHistogram
{
    /// <summary>Largest value kept apart (larger ones count as this).</summary>
    public const long HighestTrackable = 1L << 48;

    // One significant digit: values below 32 exact, then 16 buckets per power of two.
    private const long UnitBuckets = 32;
    private const int BucketsPerOctave = 16;

    /// <summary>Buckets from 0 to <see cref="HighestTrackable"/> (2^48 is the first of its octave's).</summary>
    internal const int BucketCount = (int)UnitBuckets + (48 - 5) * BucketsPerOctave + 1;

    // The pairs' first capacity: a booted VM's vCPUs record a handful of hypercall latencies each.
    private const int FirstPairs = 4;

    // Bytes a pair costs (an int bucket, a long count) and a bucket of the range (a long count).
    private const int PairBytes = sizeof(int) + sizeof(long);
    private const int RangeBucketBytes = sizeof(long);

    // Room a range grows by past the bucket that widened it (at least), so a slowly rising maximum widens it rarely.
    private const int RangeSlack = BucketsPerOctave;

    private int[]? _pairBuckets; // sorted; _pairCounts[i] is the count of bucket _pairBuckets[i]
    private long[]? _pairCounts;
    private int _pairs;
    private long[]? _range; // the counts of buckets _first .. _first + _range.Length - 1
    private int _first;

    public long Count { get; private set; }

    /// <summary>The largest value recorded (exact).</summary>
    public long Max { get; private set; }

    public bool IsEmpty => Count == 0;

    /// <summary>The bytes of counts and buckets held now (array contents, without the arrays' headers).</summary>
    internal int HeldBytes => _range is not null ? _range.Length * RangeBucketBytes : (_pairBuckets?.Length ?? 0) * PairBytes;

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
        Count += count;
        var bucket = BucketOf(value);
        if (_range is { } range)
        {
            var at = bucket - _first;
            if ((uint)at >= (uint)range.Length)
            {
                range = Widen(bucket);
                at = bucket - _first;
            }

            range[at] += count;
            return;
        }

        var index = _pairBuckets is null ? ~0 : Array.BinarySearch(_pairBuckets, 0, _pairs, bucket);
        if (index >= 0)
        {
            _pairCounts![index] += count;
            return;
        }

        index = ~index;
        if (_pairBuckets is null)
        {
            _pairBuckets = new int[FirstPairs];
            _pairCounts = new long[FirstPairs];
        }
        else if (_pairs == _pairBuckets.Length)
        {
            // Full: twice the pairs, or the range from the lowest to the highest bucket if that is no larger.
            var first = Math.Min(bucket, _pairBuckets[0]);
            var length = Math.Max(bucket, _pairBuckets[_pairs - 1]) - first + 1;
            if (length * RangeBucketBytes <= 2 * _pairs * PairBytes)
            {
                ToRange(first, length);
                _range![bucket - _first] += count;
                return;
            }

            Array.Resize(ref _pairBuckets, 2 * _pairs);
            Array.Resize(ref _pairCounts, 2 * _pairs);
        }

        Array.Copy(_pairBuckets, index, _pairBuckets, index + 1, _pairs - index);
        Array.Copy(_pairCounts!, index, _pairCounts!, index + 1, _pairs - index);
        _pairBuckets[index] = bucket;
        _pairCounts![index] = count;
        _pairs++;
    }

    /// <summary>Moves the pairs into a range of <paramref name="length"/> buckets from <paramref name="first"/>.</summary>
    private void ToRange(int first, int length)
    {
        var range = new long[length];
        for (var i = 0; i < _pairs; i++)
            range[_pairBuckets![i] - first] = _pairCounts![i];
        _range = range;
        _first = first;
        _pairBuckets = null;
        _pairCounts = null;
        _pairs = 0;
    }

    /// <summary>Grows the range to hold <paramref name="bucket"/>, with room to spare on the side it lies.</summary>
    private long[] Widen(int bucket)
    {
        var old = _range!;
        var slack = Math.Max(RangeSlack, old.Length / 4);
        var first = bucket < _first ? Math.Max(0, bucket - slack) : _first;
        var end = bucket < _first ? _first + old.Length : Math.Min(BucketCount, bucket + 1 + slack);
        var range = new long[end - first];
        Array.Copy(old, 0, range, _first - first, old.Length);
        _range = range;
        _first = first;
        return range;
    }

    /// <summary>The bucket of <paramref name="value"/> (0 ≤ value ≤ 2^48): the value itself below 32, then 16 per power of two.</summary>
    internal static int BucketOf(long value)
    {
        if (value < UnitBuckets)
            return (int)value;
        var octave = 63 - BitOperations.LeadingZeroCount((ulong)value); // 5 .. 48
        var sub = (int)(value >> (octave - 4)) & (BucketsPerOctave - 1);
        return (int)UnitBuckets + (octave - 5) * BucketsPerOctave + sub;
    }

    /// <summary>The lowest value of <paramref name="bucket"/>.</summary>
    internal static long LowestOf(int bucket)
    {
        if (bucket < UnitBuckets)
            return bucket;
        var octave = 5 + (bucket - (int)UnitBuckets) / BucketsPerOctave;
        var sub = (bucket - (int)UnitBuckets) % BucketsPerOctave;
        return (long)(BucketsPerOctave + sub) << (octave - 4);
    }

    /// <summary>The width of <paramref name="bucket"/>: 1 below 32, then a sixteenth of its power of two.</summary>
    private static long WidthOf(int bucket) =>
        bucket < UnitBuckets ? 1 : 1L << ((bucket - (int)UnitBuckets) / BucketsPerOctave + 1);

    /// <summary>The distribution so far, as an immutable value: each non-empty bucket's middle and count, in increasing order.</summary>
    public LatencySnapshot ToSnapshot()
    {
        if (Count == 0)
            return LatencySnapshot.Empty;
        if (_range is null)
        {
            var middles = ImmutableArray.CreateBuilder<long>(_pairs);
            for (var i = 0; i < _pairs; i++)
                middles.Add(Middle(_pairBuckets![i]));
            return new LatencySnapshot(middles.MoveToImmutable(), ImmutableArray.Create(_pairCounts!, 0, _pairs), Max);
        }

        var used = 0;
        foreach (var c in _range)
        {
            if (c != 0)
                used++;
        }

        var values = ImmutableArray.CreateBuilder<long>(used);
        var counts = ImmutableArray.CreateBuilder<long>(used);
        for (var i = 0; i < _range.Length; i++)
        {
            if (_range[i] == 0)
                continue;
            values.Add(Middle(_first + i));
            counts.Add(_range[i]);
        }

        return new LatencySnapshot(values.MoveToImmutable(), counts.MoveToImmutable(), Max);
    }

    private static long Middle(int bucket) => LowestOf(bucket) + WidthOf(bucket) / 2;

    /// <summary>Empties the histogram for reuse (its arrays are kept).</summary>
    public void Reset()
    {
        if (_range is not null)
            Array.Clear(_range);
        _pairs = 0;
        Count = 0;
        Max = 0;
    }
}
