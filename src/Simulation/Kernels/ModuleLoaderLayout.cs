namespace HekiActors.Simulation.Kernels;

/// <summary>
/// The Linux 6.1 module loader's layout of a relocatable module (kernel/module/main.c): which sections it keeps,
/// in which region, and how big each region is. A pure function of the section headers.
/// </summary>
public static class ModuleLoaderLayout
{
    /// <summary>SHF_RO_AFTER_INIT: the flag the loader gives <c>.data..ro_after_init</c> and <c>__jump_table</c>.</summary>
    private const ulong FlagRoAfterInit = 0x00200000;

    /// <summary>
    /// Sizes of a module's regions. Rules, in the loader's order: <c>.modinfo</c>, <c>__versions</c> and
    /// <c>.data..percpu</c> lose SHF_ALLOC (kept elsewhere); <c>.data..ro_after_init</c> and <c>__jump_table</c> gain
    /// SHF_RO_AFTER_INIT; then the allocated sections are placed in four passes (executable; read-only; ro_after_init;
    /// writable), each section at <c>ALIGN(size, sh_addralign)</c>, every region rounded up to a page; sections
    /// named <c>.init*</c> go to the init region instead (laid out the same way). The core copy of the symbol table
    /// (kallsyms) is not counted.
    /// </summary>
    public static ModuleImage Compute(string name, IReadOnlyList<ElfSectionHeader> sections)
    {
        ArgumentNullException.ThrowIfNull(sections);
        var core = new Region();
        var init = new Region();
        var placed = new bool[sections.Count];
        // masks[m] = (required flags, forbidden flags), as layout_sections; ARCH_SHF_SMALL is 0 on x86.
        (ulong Required, ulong Forbidden)[] passes =
        [
            (ElfSectionHeader.FlagExec | ElfSectionHeader.FlagAlloc, 0),
            (ElfSectionHeader.FlagAlloc, ElfSectionHeader.FlagWrite),
            (FlagRoAfterInit | ElfSectionHeader.FlagAlloc, 0),
            (ElfSectionHeader.FlagWrite | ElfSectionHeader.FlagAlloc, 0),
        ];
        var coreEnds = new ulong[passes.Length];
        var initEnds = new ulong[passes.Length];
        for (var pass = 0; pass < passes.Length; pass++)
        {
            for (var i = 0; i < sections.Count; i++)
            {
                var section = sections[i];
                var flags = LoaderFlags(section);
                if (placed[i] || (flags & passes[pass].Required) != passes[pass].Required || (flags & passes[pass].Forbidden) != 0)
                    continue;
                placed[i] = true;
                (section.Name.StartsWith(".init", StringComparison.Ordinal) ? init : core).Place(section);
            }

            coreEnds[pass] = core.AlignToPage();
            initEnds[pass] = init.AlignToPage();
        }

        return new ModuleImage(
            name,
            TextBytes: coreEnds[0],
            RodataBytes: coreEnds[1] - coreEnds[0],
            RoAfterInitBytes: coreEnds[2] - coreEnds[1],
            DataBytes: coreEnds[3] - coreEnds[2],
            InitBytes: initEnds[3]);
    }

    private static ulong LoaderFlags(ElfSectionHeader section) => section.Name switch
    {
        ".modinfo" or "__versions" or ".data..percpu" => section.Flags & ~ElfSectionHeader.FlagAlloc,
        ".data..ro_after_init" or "__jump_table" => section.Flags | FlagRoAfterInit,
        _ => section.Flags,
    };

    /// <summary>A region being laid out: its size so far in bytes.</summary>
    private sealed class Region
    {
        private ulong _size;

        public void Place(ElfSectionHeader section)
        {
            var align = Math.Max(section.Alignment, 1);
            _size = checked((_size + align - 1) / align * align + section.Size);
        }

        public ulong AlignToPage() => _size = checked((_size + ModuleImage.PageSize - 1) / ModuleImage.PageSize * ModuleImage.PageSize);
    }
}
