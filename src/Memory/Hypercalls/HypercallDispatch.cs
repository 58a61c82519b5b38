using HekiActors.Memory;

namespace HekiActors.Memory.Hypercalls;

/// <summary>Where a hypercall goes once the generic checks pass.</summary>
public enum HypercallKind : byte
{
    /// <summary>Refused by a generic rule; <see cref="HypercallDispatch.RejectionCode"/> gives the value for RAX.</summary>
    Rejected = 0,

    /// <summary>KVM_HC_LOCK_CR_UPDATE (§7).</summary>
    LockCrUpdate = 1,

    /// <summary>KVM_HC_PROTECT_MEMORY (§5).</summary>
    ProtectMemory = 2,
}

/// <summary>The generic kvm_emulate_hypercall rules the vCPU applies before routing a hypercall (§5).</summary>
public static class HypercallDispatch
{
    /// <summary>
    /// §5 generic rules: CPL ≠ 0 → rejected for any nr (checked first, as kvm_emulate_hypercall does before its
    /// switch); an unknown nr → rejected; otherwise the hypercall to run.
    /// </summary>
    public static HypercallKind Classify(ulong nr, int cpl)
    {
        if (cpl != 0)
            return HypercallKind.Rejected;
        return nr switch
        {
            HypercallNumbers.KVM_HC_LOCK_CR_UPDATE => HypercallKind.LockCrUpdate,
            HypercallNumbers.KVM_HC_PROTECT_MEMORY => HypercallKind.ProtectMemory,
            _ => HypercallKind.Rejected,
        };
    }

    /// <summary>
    /// The RAX value of a generic refusal, in rule order: CPL ≠ 0 → -EPERM (-1), then unknown nr → -KVM_ENOSYS
    /// (-1000); 0 when <see cref="Classify"/> routes the call.
    /// </summary>
    public static long RejectionCode(ulong nr, int cpl)
    {
        if (cpl != 0)
            return Errno.EPERM;
        return Classify(nr, cpl) == HypercallKind.Rejected ? Errno.ENOSYS : Errno.Ok;
    }
}
