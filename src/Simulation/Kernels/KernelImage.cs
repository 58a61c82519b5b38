namespace HekiActors.Simulation.Kernels;

/// <summary>
/// A guest kernel image as read from a bzImage or an ELF vmlinux: its section headers in header order, with each
/// allocated section's physical (load) address.
/// </summary>
/// <param name="Source">Where it came from (a path, or the shipped data's name), for messages and reports.</param>
/// <param name="Format">How it was read: <c>bzImage (xz)</c>, <c>bzImage (gzip)</c>, <c>ELF vmlinux</c>, <c>shipped data</c>.</param>
/// <param name="Entry">ELF entry point (<c>e_entry</c>; for x86-64 the physical address of <c>startup_64</c>).</param>
/// <param name="Sections">Every section header, in header order (index 0, the null section, omitted).</param>
public sealed record KernelImage(string Source, string Format, ulong Entry, IReadOnlyList<ElfSectionHeader> Sections)
{
    /// <summary>
    /// x86-64 <c>__START_KERNEL_map</c>: the kernel's virtual addresses are its physical addresses plus this base
    /// (arch/x86/include/asm/page_64_types.h), which is how the guest places the image in guest-physical memory.
    /// </summary>
    public const ulong KernelMapBase = 0xffffffff80000000;
}
