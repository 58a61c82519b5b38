using HekiActors.Memory;

namespace HekiActors.Memory;

/// <summary>A VM's fixed hardware and policy: what create_vm asked for.</summary>
/// <param name="MemoryPages">Guest memory in 4 KiB pages; gpas at or above it are MMIO.</param>
/// <param name="Mbec">Mode-based execute control: without it no fetch ever faults (§6).</param>
/// <param name="PrivateMemory">Created with private memory: the host may set PRIVATE (§4).</param>
public sealed record VmConfig(ulong MemoryPages, int VcpuCount, bool Mbec, bool PrivateMemory, HekiProfile Profile)
{
    /// <summary>Pages in one MiB of guest memory.</summary>
    public const ulong PagesPerMiB = 256;

    public static VmConfig FromMegabytes(ulong memoryMb, int vcpus, bool mbec = true, bool privateMemory = false,
        HekiProfile profile = HekiProfile.Hardened) => new(memoryMb * PagesPerMiB, vcpus, mbec, privateMemory, profile);
}
