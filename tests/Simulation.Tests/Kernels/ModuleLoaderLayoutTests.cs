using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>
/// A module's regions as the Linux 6.1 loader lays them out (kernel/module/main.c, layout_sections): the rules one by
/// one on made-up section lists, then real modules against readelf's section table.
/// </summary>
public sealed class ModuleLoaderLayoutTests
{
    private const ulong Alloc = ElfSectionHeader.FlagAlloc;
    private const ulong Write = ElfSectionHeader.FlagWrite;
    private const ulong Exec = ElfSectionHeader.FlagExec;

    [Fact]
    public void Each_region_is_its_sections_aligned_and_rounded_up_to_whole_pages()
    {
        var module = ModuleLoaderLayout.Compute("m",
        [
            Section(".text", Alloc | Exec, 0x1001, 16),
            Section(".text.unlikely", Alloc | Exec, 0x10, 1),
            Section(".rodata", Alloc, 0x20, 32),
            Section(".data", Alloc | Write, 0x2001, 8),
            Section(".bss", Alloc | Write, 0x10, 4, ElfSectionHeader.NoBits),
        ]);

        Assert.Equal(new ModuleImage("m", 0x2000, 0x1000, 0, 0x3000, 0), module);
    }

    [Fact]
    public void A_section_starts_at_its_alignment_inside_its_region()
    {
        // 0xff0 bytes of text then a 16-byte section aligned to 64: 0x1000 + 16 crosses into a second page.
        var module = ModuleLoaderLayout.Compute("m", [Section(".text", Alloc | Exec, 0xff0, 1), Section(".text.hot", Alloc | Exec, 0x10, 64)]);

        Assert.Equal(0x2000UL, module.TextBytes);
    }

    [Fact]
    public void Modinfo_versions_and_percpu_are_not_laid_out_and_unallocated_sections_are_ignored()
    {
        var module = ModuleLoaderLayout.Compute("m",
        [
            Section(".text", Alloc | Exec, 0x10, 1),
            Section(".modinfo", Alloc, 0x5000, 1),
            Section("__versions", Alloc, 0x5000, 32),
            Section(".data..percpu", Alloc | Write, 0x5000, 8),
            Section(".comment", 0, 0x5000, 1),
            Section(".symtab", 0, 0x5000, 8, 2),
        ]);

        Assert.Equal(new ModuleImage("m", 0x1000, 0, 0, 0, 0), module);
    }

    [Fact]
    public void Ro_after_init_and_the_jump_table_get_their_own_region_between_rodata_and_data()
    {
        var module = ModuleLoaderLayout.Compute("m",
        [
            Section(".data", Alloc | Write, 0x10, 8),
            Section(".data..ro_after_init", Alloc | Write, 0x10, 8),
            Section("__jump_table", Alloc | Write, 0x1000, 8),
            Section(".rodata", Alloc, 0x10, 8),
        ]);

        Assert.Equal(new ModuleImage("m", 0, 0x1000, 0x2000, 0x1000, 0), module);
    }

    [Fact]
    public void Init_sections_go_to_the_init_region_and_exit_sections_stay_in_the_core()
    {
        var module = ModuleLoaderLayout.Compute("m",
        [
            Section(".init.text", Alloc | Exec, 0x10, 1),
            Section(".init.data", Alloc | Write, 0x10, 8),
            Section(".init.rodata", Alloc, 0x10, 8),
            Section(".exit.text", Alloc | Exec, 0x10, 1),
            Section(".exit.data", Alloc | Write, 0x10, 8),
        ]);

        Assert.Equal(new ModuleImage("m", 0x1000, 0, 0, 0x1000, 0x3000), module);
    }

    [SkippableFact]
    public void Real_modules_match_the_loader_rules_applied_to_readelfs_section_table()
    {
        DebianKernelPackage.RequireReadelf();
        Assert.True(ModuleTree.TryFind(DebianKernelPackage.Modules, out var files, out var error), error);
        Assert.Equal(4022, files.Count);

        // 25 modules spread over the tree; each computed here from readelf's output, independently of ELFSharp.
        foreach (var file in KernelPackageReader.Sample(files, 25))
        {
            Assert.True(KernelImageReader.TryReadModule(file, KernelImageLimits.Default, out var read, out error), error);
            Assert.Equal(FromReadelf(KernelImageReader.ModuleName(file), DebianKernelPackage.Readelf("-S", "-W", file)), read);
        }
    }

    [Theory]
    [InlineData("/lib/modules/x/kernel/net/key/af_key.ko", "af_key")]
    [InlineData("drivers/usb/serial/usb-serial-simple.ko.xz", "usb_serial_simple")]
    [InlineData("nf-nat.ko.zst", "nf_nat")]
    [InlineData("a.ko.gz", "a")]
    public void The_module_name_is_the_file_name_as_modprobe_reads_it(string path, string name) =>
        Assert.Equal(name, KernelImageReader.ModuleName(path));

    private static ElfSectionHeader Section(string name, ulong flags, ulong size, ulong align, uint type = ElfSectionHeader.ProgBits) =>
        new(name, type, flags, 0, null, size, align);

    /// <summary>The loader's rules written out again, over readelf's view of the sections.</summary>
    private static ModuleImage FromReadelf(string name, string readelf)
    {
        var sections = DebianKernelPackage.ReadelfSections(readelf).Select(s => (s.Name, s.Flags, s.Size, Align: s.Alignment)).ToList();
        bool Allocated(string section, string flags) => flags.Contains('A') && section is not (".modinfo" or "__versions" or ".data..percpu");
        bool RoAfterInit(string section) => section is ".data..ro_after_init" or "__jump_table";
        var kinds = sections.Where(s => Allocated(s.Name, s.Flags)).Select(s => (s.Name, s.Size, s.Align,
            Kind: s.Flags.Contains('X') ? 0 : !s.Flags.Contains('W') ? 1 : RoAfterInit(s.Name) ? 2 : 3)).ToList();
        ulong Layout(bool init, int kind, ref ulong size)
        {
            foreach (var s in kinds.Where(s => s.Kind == kind && s.Name.StartsWith(".init", StringComparison.Ordinal) == init))
                size = ((size + Math.Max(s.Align, 1) - 1) / Math.Max(s.Align, 1) * Math.Max(s.Align, 1)) + s.Size;
            return size = (size + 4095) / 4096 * 4096;
        }

        ulong core = 0, init = 0;
        var ends = Enumerable.Range(0, 4).Select(k => Layout(false, k, ref core)).ToArray();
        for (var k = 0; k < 4; k++)
            Layout(true, k, ref init);
        return new ModuleImage(name, ends[0], ends[1] - ends[0], ends[2] - ends[1], ends[3] - ends[2], init);
    }
}
