using System.Numerics;

namespace HekiActors.Vcpu.Tests;

/// <summary>The home-made histogram the report used before HdrHistogram (commit b5d599a), kept as the reference of the percentile definition.</summary>
internal sealed class PreviousLatencyHistogram
{
    private const int ExactBuckets = 32;
    private const int SubBucketBits = 4;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxExponent = 47; // values up to 2^48 ps (about 281 s); larger ones are clamped
    private const int BucketCount = ExactBuckets + (MaxExponent - 4) * SubBuckets;

    // Allocated on the first record: most of a big host's histograms stay empty.
    private long[]? _counts;

    public long Count { get; private set; }

    /// <summary>The largest value recorded (exact).</summary>
    public long Max { get; private set; }

    public bool IsEmpty => Count == 0;

    /// <summary>Records <paramref name="count"/> occurrences of <paramref name="picoseconds"/>.</summary>
    public void Record(long picoseconds, long count = 1)
    {
        if (count <= 0)
            return;
        if (picoseconds < 0)
            picoseconds = 0;
        (_counts ??= new long[BucketCount])[BucketOf((ulong)picoseconds)] += count;
        Count += count;
        if (picoseconds > Max)
            Max = picoseconds;
    }

    /// <summary>Adds another histogram's counts.</summary>
    public void Add(PreviousLatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._counts is null)
            return;
        var counts = _counts ??= new long[BucketCount];
        for (var i = 0; i < BucketCount; i++)
            counts[i] += other._counts[i];
        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value at percentile <paramref name="percentile"/> (0..100), in picoseconds; 0 when empty.</summary>
    public double ValueAt(double percentile)
    {
        if (_counts is null)
            return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100 * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return Math.Min(Midpoint(i), Max);
        }

        return Max;
    }

    private static int BucketOf(ulong value)
    {
        if (value < ExactBuckets)
            return (int)value;
        var exponent = Math.Min(63 - BitOperations.LeadingZeroCount(value), MaxExponent);
        if (exponent == MaxExponent && value >> MaxExponent > 1)
            return BucketCount - 1;
        var sub = (int)(value >> (exponent - SubBucketBits)) & (SubBuckets - 1);
        return ExactBuckets + (exponent - 5) * SubBuckets + sub;
    }

    private static double Midpoint(int bucket)
    {
        if (bucket < ExactBuckets)
            return bucket;
        var exponent = (bucket - ExactBuckets) / SubBuckets + 5;
        var sub = (bucket - ExactBuckets) % SubBuckets;
        var width = 1UL << (exponent - SubBucketBits);
        var low = (1UL << exponent) + (ulong)sub * width;
        return low + width / 2.0;
    }
}
