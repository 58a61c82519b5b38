namespace HekiActors.Memory;

/// <summary>A maximal run of gfns [Start, End) that share one non-zero KVM attribute word.</summary>
public readonly record struct AttributeRun(ulong Start, ulong End, ulong Word)
{
    public GfnRange Range => new(Start, End);
}
