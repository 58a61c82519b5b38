using System.Globalization;

namespace HekiActors.Memory;

/// <summary>The kernel's warning texts and the functions holding their call sites (heki-semantics.md §5–§8).</summary>
public static class HekiWarnings
{
    /// <summary>Call sites: each has its own rate limit; the name prefixes the suppression notice.</summary>
    public const string PermissionsSetSite = "kvm_permissions_set";
    public const string FaultSite = "mem_attr_fault";
    public const string CrSite = "heki_check_cr";
    public const string ProtectMemorySite = "heki_protect_memory";

    /// <summary>patch 10: pr_fmt "kvm: heki: " + the immutable rejection.</summary>
    public static string ImmutableChange(ulong start, ulong end) =>
        string.Create(CultureInfo.InvariantCulture, $"kvm: heki: Guest tried to change immutable permission for GFNs {start:x}-{end:x}");

    /// <summary>§6: a write, fetch or (hardened) read #PF; gva shown as 16 hex digits, gfn unpadded.</summary>
    public static string Fault(AccessKind kind, ulong gva, ulong gfn) =>
        string.Create(CultureInfo.InvariantCulture, $"heki: Creating {kind.Verb()} #PF at 0x{gva:x16} GFN={gfn:x}");

    /// <summary>§7: a guest CR0/CR4 write that would clear a pinned bit.</summary>
    public static string BlockedCr(int cr, ulong value) =>
        string.Create(CultureInfo.InvariantCulture, $"heki: Blocked CR{cr} update: 0x{value:x}");

    /// <summary>§5: a PROTECT_MEMORY range without EXEC on a VM without MBEC.</summary>
    public const string ClearingExecNeedsMbec = "heki: Clearing kernel exec depends on MBEC, which is disabled.";

    /// <summary>§5: the per-range request line (permissions after EXEC forcing).</summary>
    public static string ProtectRequest(ulong startGfn, ulong endGfn, ulong permissions) =>
        string.Create(CultureInfo.InvariantCulture,
            $"heki: Request to protect GFNs {startGfn:x}-{endGfn:x} with {((permissions & HekiAttributes.Immutable) != 0 ? "immutable" : "mutable")} permissions={HekiAttributes.Format(permissions)}");

    /// <summary>§8: printed before the next message once an interval with suppression has passed.</summary>
    public static string Suppressed(string function, long count) =>
        string.Create(CultureInfo.InvariantCulture, $"{function}: {count} callbacks suppressed");
}
