namespace HekiActors.Memory;

/// <summary>
/// A pr_warn_ratelimited call site (heki-semantics.md §8): each has its own limiter, and its kernel function
/// names the "N callbacks suppressed" notice.
/// </summary>
public enum WarningSite : byte
{
    /// <summary>kvm_permissions_set: "Guest tried to change immutable permission ...".</summary>
    ImmutableChange = 0,

    /// <summary>mem_attr_fault: "Creating write/fetch/read #PF ...".</summary>
    Fault = 1,

    /// <summary>heki_check_cr: "Blocked CR0/CR4 update ...".</summary>
    BlockedCr = 2,

    /// <summary>heki_protect_memory: "Clearing kernel exec depends on MBEC ...".</summary>
    ClearingExec = 3,

    /// <summary>heki_protect_memory: the per-range "Request to protect GFNs ..." line (throttled in hardened only).</summary>
    ProtectRequest = 4,
}

/// <summary>Facts about each <see cref="WarningSite"/>.</summary>
public static class WarningSites
{
    public const int Count = 5;

    /// <summary>The kernel function holding the call site.</summary>
    public static string Function(this WarningSite site) => site switch
    {
        WarningSite.ImmutableChange => HekiWarnings.PermissionsSetSite,
        WarningSite.Fault => HekiWarnings.FaultSite,
        WarningSite.BlockedCr => HekiWarnings.CrSite,
        WarningSite.ClearingExec or WarningSite.ProtectRequest => HekiWarnings.ProtectMemorySite,
        _ => throw new ArgumentOutOfRangeException(nameof(site), site, "unknown warning site"),
    };

    /// <summary>Whether the profile rate-limits this site (heki-v2 prints "Request to protect" unthrottled).</summary>
    public static bool IsRateLimited(this WarningSite site, HekiProfile profile) =>
        site != WarningSite.ProtectRequest || profile == HekiProfile.Hardened;
}

/// <summary>One log line a pure rule produced; the supervisor decides whether it is printed.</summary>
public readonly record struct WarningLine(WarningSite Site, string Text);
