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

/// <summary>
/// One log line a pure rule produced; the supervisor decides whether it is printed. A range's line (PROTECT_MEMORY's
/// per-range request, an immutable rejection) keeps its numbers and is formatted only when its <see cref="Text"/> is
/// read: a boot's lines are mostly counted or suppressed, and formatting each one cost ~30 MB of strings at 10,000 VMs
/// (issue 11). Two lines are equal when their site and text are.
/// </summary>
public readonly struct WarningLine : IEquatable<WarningLine>
{
    private readonly string? _text;

    /// <summary>A line whose text is already known.</summary>
    public WarningLine(WarningSite site, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Site = site;
        _text = text;
    }

    private WarningLine(WarningSite site, ulong start, ulong end, ulong permissions)
    {
        Site = site;
        Start = start;
        End = end;
        Permissions = permissions;
    }

    public WarningSite Site { get; }

    /// <summary>A range's line: its first gfn (0 for a line built from text).</summary>
    public ulong Start { get; }

    /// <summary>A range's line: its end gfn, as the kernel prints it.</summary>
    public ulong End { get; }

    /// <summary>A request line: the permissions after EXEC forcing.</summary>
    public ulong Permissions { get; }

    /// <summary>Whether the text was given (else it is formatted from the range by <see cref="Render"/>).</summary>
    public bool HasText => _text is not null;

    /// <summary>The kernel's text.</summary>
    public string Text => _text ?? Render(Site, Start, End, Permissions);

    /// <summary>§5: the per-range "Request to protect GFNs" line.</summary>
    public static WarningLine ProtectRequest(ulong startGfn, ulong endGfn, ulong permissions) =>
        new(WarningSite.ProtectRequest, startGfn, endGfn, permissions);

    /// <summary>Patch 10: "Guest tried to change immutable permission" for a range.</summary>
    public static WarningLine ImmutableChange(ulong startGfn, ulong endGfn) => new(WarningSite.ImmutableChange, startGfn, endGfn, 0);

    /// <summary>The text of a range's line at <paramref name="site"/> (only <see cref="WarningSite.ProtectRequest"/> and <see cref="WarningSite.ImmutableChange"/> have one).</summary>
    public static string Render(WarningSite site, ulong startGfn, ulong endGfn, ulong permissions) => site switch
    {
        WarningSite.ProtectRequest => HekiWarnings.ProtectRequest(startGfn, endGfn, permissions),
        WarningSite.ImmutableChange => HekiWarnings.ImmutableChange(startGfn, endGfn),
        _ => throw new ArgumentOutOfRangeException(nameof(site), site, "only a range's line is formatted from its numbers"),
    };

    public bool Equals(WarningLine other) => Site == other.Site && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is WarningLine other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Site, StringComparer.Ordinal.GetHashCode(Text));

    public override string ToString() => $"{Site}: {Text}";

    public static bool operator ==(WarningLine left, WarningLine right) => left.Equals(right);

    public static bool operator !=(WarningLine left, WarningLine right) => !left.Equals(right);
}
