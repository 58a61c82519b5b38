using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

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

    /// <summary>The VM id as a metric label: only with <see cref="TelemetryOptions.PerVmLabels"/> (a cardinality limit).</summary>
    public const string Vm = "heki.vm";

    /// <summary>The VM id as a span attribute (violation, hypercall, shootdown, warning spans): never a metric label.</summary>
    public const string VmId = "heki.vm.id";

    /// <summary>The vCPU index as a span attribute: never a metric label.</summary>
    public const string Vcpu = "heki.vcpu";

    /// <summary>Where an access came from: "workload" (generated) or "attack" (sent one at a time).</summary>
    public const string Origin = "heki.access.origin";

    /// <summary>Where a hypercall was decided: "vm", or "vcpu" (refused before reaching the VM, e.g. CPL 3).</summary>
    public const string HypercallStage = "heki.hypercall.stage";

    /// <summary>What Heki stopped: "pf" (an access, #PF) or "gp" (a CR write, #GP).</summary>
    public const string Exception = "heki.exception";

    /// <summary>An attack's kind (write_kernel_text, ...).</summary>
    public const string AttackKind = "heki.attack.kind";

    /// <summary>"blocked" or "succeeded".</summary>
    public const string AttackVerdict = "heki.attack.verdict";

    /// <summary>Why a boot protection failed: the errno name of the failing hypercall.</summary>
    public const string Reason = "heki.reason";

    /// <summary>Which exporter an export failure or dropped span belongs to: "otlp", "console", "prometheus".</summary>
    public const string Exporter = "heki.exporter";

    /// <summary>A chaos fault kind (drop_request, drop_reply, ..., clock_skew: docs/chaos.md).</summary>
    public const string ChaosFault = "heki.chaos.fault";

    /// <summary>A chaos invariant's number, "1" to "5" (docs/chaos.md).</summary>
    public const string ChaosInvariant = "heki.chaos.invariant";

    /// <summary>What a chaos finding is: "violation" (a bug) or the RFC defect that explains it (dropped_downgrade, ...).</summary>
    public const string ChaosLabel = "heki.chaos.label";
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
    public const string Workload = "workload";
    public const string Attack = "attack";
    public const string StageVm = "vm";
    public const string StageVcpu = "vcpu";
    public const string PageFault = "pf";
    public const string GeneralProtection = "gp";
    public const string Blocked = "blocked";
    public const string Succeeded = "succeeded";

    /// <summary>The label of a chaos finding no RFC defect explains (<see cref="HekiTags.ChaosLabel"/>).</summary>
    public const string Violation = "violation";

    /// <summary>The boot failure reason of a VM the hypervisor refused to create or boot.</summary>
    public const string Rejected = "rejected";

    /// <summary>Hypercall result names (<see cref="Errno.Name"/>), ok first.</summary>
    public static readonly string[] Results = ["ok", "eperm", "e2big", "efault", "einval", "enosys", "other"];

    /// <summary>Origins indexed by <see cref="AccessOrigin"/>.</summary>
    public static readonly string[] Origins = [Workload, Attack];

    /// <summary>The index of a result name in <see cref="Results"/>.</summary>
    public static int ResultIndex(long ret) => Array.IndexOf(Results, Errno.Name(ret));

    /// <summary>Outcome values indexed by the vCPU's access result (0 ok, 1 #PF, 2 MMIO).</summary>
    public static readonly string[] Outcomes = [AccessResult.Ok.Name(), AccessResult.PageFault.Name(), AccessResult.Mmio.Name()];

    /// <summary>Access kind values indexed by <see cref="AccessKind"/>.</summary>
    public static readonly string[] Kinds = [AccessKind.Read.Name(), AccessKind.Write.Name(), AccessKind.Exec.Name()];
    private static readonly string[] Sites = ["immutable_change", "fault", "blocked_cr", "clearing_exec", "protect_request"];
    private static readonly string[] Crs = Enumerable.Range(0, 16).Select(cr => "cr" + cr).ToArray();

    public static string Of(HekiProfile profile) => profile.Name();

    /// <summary>A hypercall's name by number: protect_memory, lock_cr_update, or "other".</summary>
    public static string HypercallName(ulong nr) => nr switch
    {
        HypercallNumbers.KVM_HC_PROTECT_MEMORY => ProtectMemory,
        HypercallNumbers.KVM_HC_LOCK_CR_UPDATE => LockCrUpdate,
        _ => "other",
    };

    public static string Of(AccessKind kind) => (int)kind < Kinds.Length ? Kinds[(int)kind] : "other";

    public static string Of(WarningSite site) => (int)site < Sites.Length ? Sites[(int)site] : "other";

    public static string Cr(int cr) => cr >= 0 && cr < Crs.Length ? Crs[cr] : "other";
}
