using System.Collections.Immutable;

namespace HekiActors.Protocol;

/// <summary>
/// An immutable latency distribution in picoseconds, as a histogram hands it over: each recorded bucket's
/// representative value (the middle of the bucket, about 3% wide) with its count, in increasing order, and the
/// exact largest value recorded.
/// </summary>
public sealed record LatencySnapshot(ImmutableArray<long> Values, ImmutableArray<long> Counts, long Max)
{
    public static readonly LatencySnapshot Empty = new([], [], 0);

    /// <summary>Values recorded.</summary>
    public long Count
    {
        get
        {
            long count = 0;
            foreach (var c in Counts)
                count += c;
            return count;
        }
    }

    public bool IsEmpty => Values.IsDefaultOrEmpty;

    /// <summary>
    /// The value at <paramref name="percentile"/> (0..100), in picoseconds, 0 when empty: the representative of the
    /// bucket holding the value of rank ceil(p/100 × count) (at least 1), never more than the exact maximum.
    /// </summary>
    public double ValueAt(double percentile)
    {
        if (IsEmpty)
            return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100 * Count));
        long seen = 0;
        for (var i = 0; i < Values.Length; i++)
        {
            seen += Counts[i];
            if (seen >= rank)
                return Math.Min(Values[i], Max);
        }

        return Max;
    }
}
