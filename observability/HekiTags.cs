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

    /// <summary>"protect_memory", "lock_cr_update" or "other".</summary>
    public const string Hypercall = "heki.hypercall";

    /// <summary>A return code by name: "ok", "eperm", "e2big", "efault", "einval", "enosys", "other".</summary>
    public const string Result = "heki.result";

    /// <summary>The warning's kernel function and kind, e.g. "kvm_permissions_set".</summary>
    public const string WarningSite = "heki.warning.site";

    /// <summary>"cr0" or "cr4".</summary>
    public const string ControlRegister = "heki.cr";

    /// <summary>"fast" or "slow".</summary>
    public const string Path = "heki.path";

    /// <summary>The VM id: only with <see cref="TelemetryOptions.PerVmLabels"/>.</summary>
    public const string Vm = "heki.vm";
}
