namespace HekiActors.Memory;

/// <summary>What a guest access did: completed, injected a #PF, or exited as MMIO (heki-semantics.md §6).</summary>
public enum AccessResult : byte
{
    Ok = 0,
    PageFault = 1,
    Mmio = 2,
}

/// <summary>Names of access results as the replay format and telemetry spell them.</summary>
public static class AccessResults
{
    public const int Count = 3;

    /// <summary><c>ok</c>, <c>pf</c> or <c>mmio</c> (replay-format.md's <c>access</c> result).</summary>
    public static string Name(this AccessResult result) => result switch
    {
        AccessResult.Ok => "ok",
        AccessResult.PageFault => "pf",
        AccessResult.Mmio => "mmio",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "unknown access result"),
    };
}
