namespace HekiActors.Memory.Hypercalls;

/// <summary>The Heki hypercall numbers a guest puts in RAX (heki-semantics.md §5, §7).</summary>
public static class HypercallNumbers
{
    /// <summary>§7, patch 02: pin CR0/CR4 bits, or query the ABI version.</summary>
    public const ulong KVM_HC_LOCK_CR_UPDATE = 13;

    /// <summary>§5, patch 11: set per-guest-page permissions from a list of ranges.</summary>
    public const ulong KVM_HC_PROTECT_MEMORY = 14;
}
