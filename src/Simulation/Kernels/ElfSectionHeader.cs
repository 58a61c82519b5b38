namespace HekiActors.Simulation.Kernels;

/// <summary>
/// One ELF section header as the product reads it (the fields <c>readelf -S</c> prints that matter here).
/// </summary>
/// <param name="Name">Section name, e.g. <c>.text</c>.</param>
/// <param name="Type">ELF section type (<c>SHT_*</c>): <see cref="ProgBits"/>, <see cref="NoBits"/>, ...</param>
/// <param name="Flags">Raw <c>sh_flags</c> (<c>SHF_*</c>).</param>
/// <param name="Address">Virtual address (<c>sh_addr</c>); 0 in a relocatable module.</param>
/// <param name="PhysicalAddress">
/// Load (physical) address: the section's offset inside its <c>PT_LOAD</c> segment added to the segment's
/// <c>p_paddr</c>; null when no loadable segment holds it (non-allocated sections, modules).
/// </param>
/// <param name="Size">Size in bytes (<c>sh_size</c>; for NOBITS the memory it takes, not file bytes).</param>
/// <param name="Alignment">Required alignment in bytes (<c>sh_addralign</c>; 0 and 1 mean none).</param>
public sealed record ElfSectionHeader(string Name, uint Type, ulong Flags, ulong Address, ulong? PhysicalAddress, ulong Size, ulong Alignment)
{
    public const uint ProgBits = 1;
    public const uint NoBits = 8;

    /// <summary>SHF_WRITE.</summary>
    public const ulong FlagWrite = 0x1;

    /// <summary>SHF_ALLOC: occupies memory at run time.</summary>
    public const ulong FlagAlloc = 0x2;

    /// <summary>SHF_EXECINSTR.</summary>
    public const ulong FlagExec = 0x4;

    public bool IsAlloc => (Flags & FlagAlloc) != 0;

    public bool IsWrite => (Flags & FlagWrite) != 0;

    public bool IsExec => (Flags & FlagExec) != 0;

    /// <summary>The flag letters <c>readelf -S</c> prints for W, A and X (in its order: W, A, X).</summary>
    public string FlagLetters => (IsWrite ? "W" : "") + (IsAlloc ? "A" : "") + (IsExec ? "X" : "");
}
