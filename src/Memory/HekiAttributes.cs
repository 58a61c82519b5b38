namespace HekiActors.Memory;

/// <summary>Heki permission bits and their place in the 64-bit KVM attribute word (heki-semantics.md §1, patch 10).</summary>
public static class HekiAttributes
{
    public const ulong Read = 1;
    public const ulong Write = 2;
    public const ulong Exec = 4;
    public const ulong Immutable = 8;

    /// <summary>MEM_ATTR_PROT: every valid heki bit.</summary>
    public const ulong Prot = 0xF;

    /// <summary>kvm_default_permissions: what a gfn without attributes allows.</summary>
    public const ulong DefaultPermissions = Read | Write | Exec;

    /// <summary>KVM_MEMORY_ATTRIBUTE_PRIVATE: set by the host VMM, never by the guest.</summary>
    public const ulong KvmPrivate = 1UL << 3;

    public const ulong KvmHekiRead = 1UL << 4;
    public const ulong KvmHekiWrite = 1UL << 5;
    public const ulong KvmHekiExec = 1UL << 6;
    public const ulong KvmHekiImmutable = 1UL << 7;

    /// <summary>kvm_memory_attributes_heki: the heki group of the KVM word (bits 4..7).</summary>
    public const ulong KvmHekiMask = 0xF0;

    /// <summary>heki_attr_to_kvm_attr for a valid heki value.</summary>
    public static ulong ToKvm(ulong hekiAttr) => (hekiAttr & Prot) << 4;

    /// <summary>kvm_attr_to_heki_attr: bits outside the heki group are dropped.</summary>
    public static ulong FromKvm(ulong kvmWord) => (kvmWord >> 4) & Prot;

    /// <summary>True when <paramref name="hekiAttr"/> has a bit outside MEM_ATTR_PROT.</summary>
    public static bool HasInvalidBits(ulong hekiAttr) => (hekiAttr | Prot) != Prot;

    /// <summary>The kernel log's "rwx" rendering, e.g. "r_x".</summary>
    public static string Format(ulong hekiAttr) => string.Create(3, hekiAttr, static (span, a) =>
    {
        span[0] = (a & Read) != 0 ? 'r' : '_';
        span[1] = (a & Write) != 0 ? 'w' : '_';
        span[2] = (a & Exec) != 0 ? 'x' : '_';
    });
}
