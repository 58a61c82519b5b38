using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>The guest-kernel data file: the shipped Debian kernel, round trips, and refusals that name the line.</summary>
public sealed class KernelDataFileTests
{
    [Fact]
    public void The_shipped_Debian_kernel_has_its_38_sections_and_200_of_its_4022_modules()
    {
        var debian = ShippedKernels.Debian;

        Assert.Equal("debian-6.1.0-47-amd64", debian.Name);
        Assert.Equal(38, debian.Kernel.Sections.Count);
        Assert.Equal(200, debian.Modules.Count);
        Assert.Equal(4022, debian.ModulesAvailable);
        var text = debian.Kernel.Sections[0];
        Assert.Equal((".text", 0xffffffff81000000UL, 0x1000000UL, 0xe01d32UL), (text.Name, text.Address, text.PhysicalAddress!.Value, text.Size));
        Assert.Equal(0x10f3000UL, debian.Kernel.Sections.Single(s => s.Name == ".bss").Size);
        Assert.All(debian.Modules, m => Assert.True(m.TextBytes % ModuleImage.PageSize == 0 && m.CorePages > 0, m.Name));
        Assert.Same(debian, ShippedKernels.Debian);
    }

    [Fact]
    public void Writing_then_reading_gives_the_same_kernel_and_modules()
    {
        var debian = ShippedKernels.Debian;
        var text = new StringWriter();
        KernelDataFile.Write(text, debian);

        Assert.True(KernelDataFile.TryRead(new StringReader(text.ToString()), "copy", out var copy, out var error), error);

        Assert.Equal(debian.Name, copy.Name);
        Assert.Equal(debian.Kernel.Sections, copy.Kernel.Sections);
        Assert.Equal(debian.Kernel.Entry, copy.Kernel.Entry);
        Assert.Equal(debian.Modules, copy.Modules);
        Assert.Equal(debian.Provenance, copy.Provenance);
        Assert.Equal(debian.ModulesAvailable, copy.ModulesAvailable);
    }

    [Theory]
    [InlineData("name\tx", "line 1: not a guest-kernel data file")]
    [InlineData("# heki guest-kernel data 1\nname\tx", "no section lines")]
    [InlineData("# heki guest-kernel data 1\nsection\t.text\tPROGBITS\t0x6\t0x0\t0x1000\t0x10\t0x1", "no name line")]
    [InlineData("# heki guest-kernel data 1\nname\tx\nsection\t.text\tPROGBITS\t0x6\t0x0\t0x1000\t16\t0x1", "line 3: section .text: size \"16\" is not a 0x-prefixed hexadecimal number")]
    [InlineData("# heki guest-kernel data 1\nname\tx\nsection\t.text\tWEIRD\t0x6\t0x0\t0x1000\t0x10\t0x1", "line 3: section .text: unknown type \"WEIRD\"")]
    [InlineData("# heki guest-kernel data 1\nname\tx\nsection\t.text\tPROGBITS\t0x6\t0x0\t0xfffffffffffff000\t0x2000\t0x1", "line 3: section .text: physical address 0xfffffffffffff000 plus size 0x2000 wraps around")]
    [InlineData("# heki guest-kernel data 1\nname\tx\nmodule\tm\t4096\t100\t0\t0\t0", "line 3: module m: \"100\" is not a whole number of 4 KiB pages in bytes")]
    [InlineData("# heki guest-kernel data 1\nname\tx\nmodule\tm\t4096", "line 3: unknown or incomplete record \"module\" (3 fields)")]
    [InlineData("# heki guest-kernel data 1\nbogus", "line 2: unknown or incomplete record \"bogus\" (1 fields)")]
    [InlineData("", "empty")]
    public void A_malformed_file_is_refused_with_its_line(string text, string problem)
    {
        Assert.False(KernelDataFile.TryRead(new StringReader(text), "f.txt", out var package, out var error));

        Assert.Null(package);
        Assert.StartsWith("f.txt: ", error, StringComparison.Ordinal);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_data_file_is_accepted_where_a_kernel_path_is_expected()
    {
        using var folder = new TemporaryFolder();
        var text = new StringWriter();
        KernelDataFile.Write(text, ShippedKernels.Debian);
        var path = folder.Write("debian.txt", text.ToString());

        Assert.True(KernelPackageReader.TryRead(path, null, 20, KernelImageLimits.Default, out var package, out var error), error);

        Assert.Equal(ShippedKernels.Debian.Kernel.Sections, package.Kernel.Sections);
        Assert.Equal(KernelPackageReader.Sample(ShippedKernels.Debian.Modules, 20), package.Modules);
    }

    [Fact]
    public void A_sample_spreads_evenly_and_keeps_everything_when_asked_for_more()
    {
        var items = Enumerable.Range(0, 10).ToArray();

        Assert.Equal([0, 3, 6], KernelPackageReader.Sample(items, 3));
        Assert.Equal(items, KernelPackageReader.Sample(items, 10));
        Assert.Equal(items, KernelPackageReader.Sample(items, 50));
    }
}
