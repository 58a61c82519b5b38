using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Vm;

/// <summary>
/// A request that may change a VM, as <see cref="VmCore.Decide"/> takes it. Every one carries the VM's id (for the
/// texts of rejections) and a request id: a request whose id was already answered with a change is answered
/// again from the VM's record and changes nothing (<see cref="Guid.Empty"/> means "no id": never deduplicated).
/// </summary>
public abstract record VmCommand(string VmId, Guid RequestId)
{
    /// <summary>create_vm: a fresh incarnation with this configuration.</summary>
    public sealed record Create(string VmId, Guid RequestId, VmConfig Config) : VmCommand(VmId, RequestId);

    /// <summary>destroy_vm: the VM and its state go; the id may be created again.</summary>
    public sealed record Destroy(string VmId, Guid RequestId) : VmCommand(VmId, RequestId);

    /// <summary>KVM_HC_PROTECT_MEMORY from CPL 0 (the vCPU applies the generic hypercall rules first, §5).</summary>
    public sealed record Protect(string VmId, Guid RequestId, MemoryRange[][] ListPages) : VmCommand(VmId, RequestId);

    /// <summary>KVM_HC_LOCK_CR_UPDATE from CPL 0 (§7).</summary>
    public sealed record LockCr(string VmId, Guid RequestId, ulong Cr, ulong Pin, ulong Flags) : VmCommand(VmId, RequestId);

    /// <summary>A guest MOV to CR<paramref name="Cr"/> on vCPU <paramref name="Vcpu"/> (§7).</summary>
    public sealed record WriteCr(string VmId, Guid RequestId, int Vcpu, int Cr, ulong Value) : VmCommand(VmId, RequestId);

    /// <summary>kvm_permissions_set called by the host on gfns [Start, End) (§3).</summary>
    public sealed record SetPermissions(string VmId, Guid RequestId, ulong Start, ulong End, ulong Attr) : VmCommand(VmId, RequestId);

    /// <summary>The VMM's KVM_SET_MEMORY_ATTRIBUTES in bytes (§4).</summary>
    public sealed record SetMemoryAttributes(string VmId, Guid RequestId, ulong Address, ulong Size, ulong Attributes, ulong Flags)
        : VmCommand(VmId, RequestId);
}

/// <summary>What a VM answers a <see cref="VmCommand"/>.</summary>
public abstract record VmOutcome
{
    /// <summary>The VM exists (created now, or by this very request before).</summary>
    public sealed record Created : VmOutcome
    {
        public static readonly Created Instance = new();
    }

    /// <summary>The VM is gone (destroyed now, or by this very request before).</summary>
    public sealed record Destroyed : VmOutcome
    {
        public static readonly Destroyed Instance = new();
    }

    /// <summary>A kernel return value: 0, a negative errno, or the lock_cr ABI version.</summary>
    /// <param name="HostIntegrityFaults">heki-v2: list pages the RFC read past their buffer (§5).</param>
    public sealed record Returned(long Ret, int HostIntegrityFaults = 0) : VmOutcome;

    /// <summary>Whether a CR write took effect, and the register's durable value afterwards.</summary>
    public sealed record CrWrite(bool Written, int Cr, ulong Value) : VmOutcome;

    /// <summary>Bad input: nothing changed.</summary>
    public sealed record Rejected(RejectionCode Code, string Reason) : VmOutcome;
}

/// <summary>
/// What <see cref="VmCore.Decide"/> concluded: the events that record the change (none when nothing changes), the
/// answer, and the warning lines the kernel logs, in order (the supervisor rate-limits them).
/// </summary>
public sealed record VmDecision(IReadOnlyList<IVmEvent> Events, VmOutcome Outcome, IReadOnlyList<WarningLine> Warnings)
{
    /// <summary>A decision that changes nothing and logs nothing.</summary>
    public static VmDecision Answer(VmOutcome outcome) => new([], outcome, []);

    public static VmDecision Reject(RejectionCode code, string reason) => Answer(new VmOutcome.Rejected(code, reason));
}
