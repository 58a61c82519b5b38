using HekiActors.Memory;

namespace HekiActors.Protocol;

/// <summary>Replies <see cref="WarningsFlushed"/> once every warning sent before it has been handled.</summary>
public sealed record FlushWarnings : IWarningMessage
{
    public static readonly FlushWarnings Instance = new();
}

/// <summary>Every earlier warning has been printed or suppressed.</summary>
public sealed record WarningsFlushed : IWarningMessage
{
    public static readonly WarningsFlushed Instance = new();
}

/// <summary>Asks for the supervisor's counts. Replies <see cref="WarningStats"/>.</summary>
public sealed record GetWarningStats : IWarningMessage
{
    public static readonly GetWarningStats Instance = new();
}

/// <summary>Warnings printed and suppressed per call site (indexed by <see cref="WarningSite"/>), and notices printed.</summary>
public sealed record WarningStats(long[] Emitted, long[] Suppressed, long SuppressionNotices) : IWarningMessage
{
    public long TotalEmitted => Emitted.Sum();

    public long TotalSuppressed => Suppressed.Sum();

    public long EmittedAt(WarningSite site) => Emitted[(int)site];

    public long SuppressedAt(WarningSite site) => Suppressed[(int)site];
}

/// <summary>
/// A VM incarnation began (create_vm) or ended (destroy_vm): the supervisor forgets that VM's own rate limiters, so a
/// VM created again under the same id starts with fresh ones, as a new VM does (hardened, heki-semantics.md §8 and
/// §10 "a new VM starts fresh"). heki-v2's limiters are host-wide by design and stay as they are.
/// </summary>
public sealed record ResetVmWarnings(string VmId) : IWarningMessage;
