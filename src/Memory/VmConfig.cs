namespace HekiActors.Memory;

/// <summary>A VM's fixed hardware and policy: what create_vm asked for.</summary>
/// <param name="MemoryPages">Guest memory in 4 KiB pages; gpas at or above it are MMIO.</param>
/// <param name="Mbec">Mode-based execute control: without it no fetch ever faults (§6).</param>
/// <param name="PrivateMemory">Created with private memory: the host may set PRIVATE (§4).</param>
public sealed record VmConfig(ulong MemoryPages, int VcpuCount, bool Mbec, bool PrivateMemory, HekiProfile Profile)
{
    /// <summary>Pages in one MiB of guest memory.</summary>
    public const ulong PagesPerMiB = 256;

    /// <summary>KVM's limit on vCPUs per VM (KVM_MAX_VCPUS on x86).</summary>
    public const int MaxVcpus = 4096;

    /// <summary>The largest guest memory in MiB: 2^44 MiB is 2^64 bytes, the whole 64-bit guest physical address space.</summary>
    public const ulong MaxMemoryMb = 1UL << 44;

    /// <param name="memoryMb">1..<see cref="MaxMemoryMb"/>.</param>
    public static VmConfig FromMegabytes(ulong memoryMb, int vcpus, bool mbec = true, bool privateMemory = false,
        HekiProfile profile = HekiProfile.Hardened) => new(PagesOf(memoryMb), vcpus, mbec, privateMemory, profile);

    /// <summary>The pages in <paramref name="memoryMb"/> MiB, refusing sizes above <see cref="MaxMemoryMb"/>: unchecked,
    /// 2^56 MiB would wrap to 0 pages and 2^56 + 16 MiB to a 16 MiB guest.</summary>
    public static ulong PagesOf(ulong memoryMb)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memoryMb, MaxMemoryMb);
        return memoryMb * PagesPerMiB;
    }
}
