namespace HekiActors.Memory;

/// <summary>A half-open range of guest frame numbers [Start, End); empty when End &lt;= Start.</summary>
public readonly record struct GfnRange(ulong Start, ulong End)
{
    public static readonly GfnRange Empty = default;

    public bool IsEmpty => End <= Start;

    /// <summary>Number of pages; ranges may be up to 2^64-1 pages long.</summary>
    public ulong Length => IsEmpty ? 0 : End - Start;

    public bool Contains(ulong gfn) => gfn >= Start && gfn < End;

    public bool Overlaps(GfnRange other) => !IsEmpty && !other.IsEmpty && Start < other.End && other.Start < End;

    /// <summary>The smallest range covering both (an empty side is ignored).</summary>
    public GfnRange Union(GfnRange other) =>
        IsEmpty ? other : other.IsEmpty ? this : new(Math.Min(Start, other.Start), Math.Max(End, other.End));

    public override string ToString() => IsEmpty ? "[]" : $"[{Start:x}, {End:x})";
}
