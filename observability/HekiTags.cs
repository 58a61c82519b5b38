using HekiActors.Memory;

namespace HekiActors.Observability;

/// <summary>
/// Attribute names. Only low-cardinality values are ever attached: a profile, an access kind, an outcome, a
/// hypercall, a result, a warning site, a CR number; never a gfn or an address, and a VM id only when the user
/// opts in (<see cref="TelemetryOptions.PerVmLabels"/>).
/// </summary>
public static class HekiTags
{
    /// <summary>"hardened" or "heki-v2".</summary>
    public const string Profile = "heki.profile";

    /// <summary>"read", "write" or "exec".</summary>
    public const string AccessKind = "heki.access.kind";

    /// <summary>"ok", "pf" (a #PF was injected) or "mmio".</summary>
    public const string Outcome = "heki.access.outcome";

    /// <summary>"protect_memory" or "lock_cr_update".</summary>
    public const string Hypercall = "heki.hypercall";

    /// <summary>The host operation of a host request span: "set_permissions" or "set_memory_attributes".</summary>
    public const string HostOperation = "heki.host.operation";

    /// <summary>Who asked for a refused change: "guest" (PROTECT_MEMORY) or "host" (set_permissions).</summary>
    public const string Source = "heki.source";

    /// <summary>A return code by name: "ok", "eperm", "e2big", "efault", "einval", "enosys", "other".</summary>
    public const string Result = "heki.result";

    /// <summary>The warning's call site: "immutable_change", "fault", "blocked_cr", "clearing_exec", "protect_request".</summary>
    public const string WarningSite = "heki.warning.site";

    /// <summary>The supervisor's decision on a warning: "printed" or "suppressed".</summary>
    public const string WarningDecision = "heki.warning.decision";

    /// <summary>"cr0" or "cr4" (or "crN" for a register that cannot be pinned).</summary>
    public const string ControlRegister = "heki.cr";

    /// <summary>Accesses in a fast-path span's group; translations dropped by an invalidation span (span attributes only).</summary>
    public const string Count = "heki.count";

    /// <summary>The VM id: only with <see cref="TelemetryOptions.PerVmLabels"/>.</summary>
    public const string Vm = "heki.vm";
}

/// <summary>The fixed attribute values, as interned strings so recording a tag allocates nothing.</summary>
public static class HekiTagValues
{
    public const string ProtectMemory = "protect_memory";
    public const string LockCrUpdate = "lock_cr_update";
    public const string SetPermissions = "set_permissions";
    public const string SetMemoryAttributes = "set_memory_attributes";
    public const string Guest = "guest";
    public const string Host = "host";
    public const string Printed = "printed";
    public const string Suppressed = "suppressed";

    /// <summary>Outcome values indexed by the vCPU's access result (0 ok, 1 #PF, 2 MMIO).</summary>
    public static readonly string[] Outcomes = [AccessResult.Ok.Name(), AccessResult.PageFault.Name(), AccessResult.Mmio.Name()];

    /// <summary>Access kind values indexed by <see cref="AccessKind"/>.</summary>
    public static readonly string[] Kinds = [AccessKind.Read.Name(), AccessKind.Write.Name(), AccessKind.Exec.Name()];
    private static readonly string[] Sites = ["immutable_change", "fault", "blocked_cr", "clearing_exec", "protect_request"];
    private static readonly string[] Crs = Enumerable.Range(0, 16).Select(cr => "cr" + cr).ToArray();

    public static string Of(HekiProfile profile) => profile.Name();

    public static string Of(AccessKind kind) => (int)kind < Kinds.Length ? Kinds[(int)kind] : "other";

    public static string Of(WarningSite site) => (int)site < Sites.Length ? Sites[(int)site] : "other";

    public static string Cr(int cr) => cr >= 0 && cr < Crs.Length ? Crs[cr] : "other";
}
