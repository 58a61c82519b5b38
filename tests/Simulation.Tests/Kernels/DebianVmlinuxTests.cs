using System.Security.Cryptography;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>
/// The real kernel of Debian's linux-image-6.1.0-47-amd64: what the product reads from its bzImage must be what
/// binutils' readelf reads from the same vmlinux.
/// </summary>
[Collection(DebianKernelCollection.Name)]
public sealed class DebianVmlinuxTests(DebianKernelFixture kernel)
{
    [SkippableFact]
    public void The_package_is_the_one_whose_checksum_is_pinned()
    {
        DebianKernelPackage.Require();
        using var deb = File.OpenRead(DebianKernelPackage.Deb);
        Assert.Equal(DebianKernelPackage.Sha256, Convert.ToHexStringLower(SHA256.HashData(deb)));
        Assert.Contains(DebianKernelPackage.Sha256, ShippedKernels.Debian.Provenance, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Every_section_read_from_the_bzImage_matches_readelf_in_name_address_size_type_and_flags()
    {
        DebianKernelPackage.RequireReadelf();
        Assert.True(KernelImageReader.TryReadKernel(DebianKernelPackage.BzImage, KernelImageLimits.Default, out var image, out var error), error);
        var expected = DebianKernelPackage.ReadelfSections(DebianKernelPackage.Readelf("-S", "-W", kernel.VmlinuxPath));

        Assert.Equal("bzImage (xz)", image.Format);
        Assert.Equal(38, image.Sections.Count); // 39 headers with the null section, which readelf prints as [0]
        Assert.Equal(expected.Count, image.Sections.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var want = expected[i];
            var read = image.Sections[i];
            Assert.Equal(want.Name, read.Name);
            Assert.Equal(want.Type, TypeName(read.Type));
            Assert.Equal(want.Address, read.Address);
            Assert.Equal(want.Size, read.Size);
            // The flags kept are W, A and X, in readelf's order.
            Assert.Equal(new string(want.Flags.Where(c => c is 'W' or 'A' or 'X').ToArray()), read.FlagLetters);
        }

        var text = image.Sections.Single(s => s.Name == ".text");
        Assert.Equal(0xe01d32UL, text.Size); // 14.0 MiB, as the issue says
        Assert.Equal(0x1000000UL, text.PhysicalAddress); // at 16 MiB physical
    }

    [SkippableFact]
    public void Physical_addresses_are_the_load_addresses_readelf_derives_from_the_program_headers()
    {
        DebianKernelPackage.RequireReadelf();
        Assert.True(KernelImageReader.TryReadKernel(kernel.VmlinuxPath, KernelImageLimits.Default, out var image, out var error), error);
        var loads = DebianKernelPackage.ReadelfLoads(DebianKernelPackage.Readelf("-l", "-W", kernel.VmlinuxPath));
        Assert.Equal(4, loads.Count);

        foreach (var section in image.Sections.Where(s => s.IsAlloc))
        {
            var load = loads.Single(l => section.Address >= l.Virtual && section.Address + section.Size <= l.Virtual + l.MemorySize);
            Assert.Equal(load.Physical + (section.Address - load.Virtual), section.PhysicalAddress);
            // In the kernel map, physical is virtual minus __START_KERNEL_map; only the per-CPU template is zero-based.
            if (section.Name != ".data..percpu")
                Assert.Equal(section.Address - KernelImage.KernelMapBase, section.PhysicalAddress);
        }

        Assert.Equal(0x3042000UL, image.Sections.Single(s => s.Name == ".data..percpu").PhysicalAddress);
        Assert.Null(image.Sections.Single(s => s.Name == ".shstrtab").PhysicalAddress);
    }

    [SkippableFact]
    public void Reading_the_vmlinux_itself_gives_the_same_sections_as_reading_the_bzImage()
    {
        Assert.True(KernelImageReader.TryReadKernel(kernel.VmlinuxPath, KernelImageLimits.Default, out var elf, out var error), error);
        Assert.True(KernelImageReader.TryReadKernel(DebianKernelPackage.BzImage, KernelImageLimits.Default, out var bz, out error), error);
        Assert.Equal("ELF vmlinux", elf.Format);
        Assert.Equal(0x1000000UL, elf.Entry);
        Assert.Equal(bz.Entry, elf.Entry);
        Assert.Equal(bz.Sections, elf.Sections);
    }

    [SkippableFact]
    public void The_shipped_data_is_what_the_documented_extraction_produces_from_the_package()
    {
        DebianKernelPackage.Require();
        Assert.True(KernelPackageReader.TryRead(DebianKernelPackage.BzImage, DebianKernelPackage.Modules, 200, KernelImageLimits.Default,
            out var extracted, out var error), error);
        var shipped = ShippedKernels.Debian;

        Assert.Equal(extracted.Kernel.Sections, shipped.Kernel.Sections);
        Assert.Equal(extracted.Kernel.Entry, shipped.Kernel.Entry);
        Assert.Equal(extracted.Kernel.Format, shipped.Kernel.Format);
        Assert.Equal(extracted.Modules, shipped.Modules);
        Assert.Equal(4022, extracted.ModulesAvailable);
        Assert.Equal(extracted.ModulesAvailable, shipped.ModulesAvailable);
    }

    private static string TypeName(uint type) => type switch
    {
        1 => "PROGBITS",
        3 => "STRTAB",
        7 => "NOTE",
        8 => "NOBITS",
        _ => $"{type}",
    };

}
