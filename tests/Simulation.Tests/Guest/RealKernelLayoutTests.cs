using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Guest;

/// <summary>
/// What a Heki guest protects of a real kernel (the shipped Debian 6.1 data): text R-X and rodata R-- immutable,
/// data RW-, init dropped, everything at its physical address so RAM below the kernel stays unprotected.
/// </summary>
public sealed class RealKernelLayoutTests
{
    private static readonly KernelPackage Debian = ShippedKernels.Debian;
    private static readonly ulong Pages1G = 1024 * VmConfig.PagesPerMiB;

    [Fact]
    public void The_Debian_image_splits_into_text_rodata_data_init_data_init_at_its_physical_pages()
    {
        Assert.True(ImageProtection.TryPlan(Debian.Kernel, out var plan, out var error), error);

        Assert.Equal(
        [
            (ImagePartKind.Text, new GfnRange(0x1000, 0x1e02), ".text", ".text"),
            (ImagePartKind.Rodata, new GfnRange(0x2000, 0x28e7), ".rodata", ".BTF_ids"),
            (ImagePartKind.Data, new GfnRange(0x2a00, 0x3042), ".data", ".vvar"),
            (ImagePartKind.Init, new GfnRange(0x3042, 0x3303), ".data..percpu", ".exit.text"),
            (ImagePartKind.Data, new GfnRange(0x3303, 0x4430), ".smp_locks", ".brk"),
            (ImagePartKind.Init, new GfnRange(0x4600, 0x4a00), ".init.scratch", ".init.scratch"),
        ], plan.Parts.Select(p => (p.Kind, p.Pages, p.FirstSection, p.LastSection)));
        Assert.Equal(0x1000UL, plan.FirstGfn); // 16 MiB of guest RAM below the kernel
        Assert.Equal(3586UL, plan.PagesOf(ImagePartKind.Text));
        Assert.Equal(2279UL, plan.PagesOf(ImagePartKind.Rodata));
        Assert.Equal(5999UL, plan.PagesOf(ImagePartKind.Data));
        Assert.Equal(1729UL, plan.PagesOf(ImagePartKind.Init));
    }

    [Fact]
    public void The_boot_list_is_four_ranges_in_one_list_page_and_nothing_below_the_kernel()
    {
        var layout = KernelLayout.ForImage(Debian, Pages1G);
        var kernel = new GuestKernel(layout, 2, WorkloadMix.Default);

        var page = Assert.Single(kernel.BootListPages);
        Assert.Equal(
        [
            new MemoryRange(0x1000UL << 12, 0x1e02UL << 12, KernelLayout.TextPermissions),
            new MemoryRange(0x2000UL << 12, 0x28e7UL << 12, KernelLayout.RodataPermissions),
            new MemoryRange(0x2a00UL << 12, 0x3042UL << 12, KernelLayout.DataPermissions),
            new MemoryRange(0x3303UL << 12, 0x4430UL << 12, KernelLayout.DataPermissions),
        ], page);
        Assert.Equal(0x4a00UL, layout.Heap.Start);
        Assert.Equal(layout.Heap.End, layout.ModuleArea.Start);
        Assert.Equal(layout.ModuleArea.End, layout.User.Start);
        Assert.Equal(Pages1G, layout.User.End);
    }

    [Fact]
    public void Every_VM_of_one_kernel_and_size_shares_one_layout_and_one_boot_list()
    {
        var a = KernelLayout.ForImage(Debian, Pages1G);

        Assert.Same(a, KernelLayout.ForImage(Debian, Pages1G));
        Assert.NotSame(a, KernelLayout.ForImage(Debian, 2 * Pages1G));
        Assert.Same(new GuestKernel(a, 1, WorkloadMix.Default).BootListPages, new GuestKernel(a, 4, WorkloadMix.Default).BootListPages);
    }

    [Fact]
    public void Booting_the_image_on_the_rules_gives_each_page_its_kinds_permissions()
    {
        foreach (var profile in new[] { HekiProfile.Hardened, HekiProfile.HekiV2 })
        {
            var layout = KernelLayout.ForImage(Debian, Pages1G);
            var memory = new VmMemoryAttributes(profile);
            Assert.Equal(0, ProtectMemory.Apply(memory, new GuestKernel(layout, 1, WorkloadMix.Default).BootListPages, mbec: true).Ret);

            Assert.Equal(7UL, memory.PermissionsGet(0x0fff)); // RAM below the kernel: untouched, the default RWX
            Assert.Equal(KernelLayout.TextPermissions, memory.PermissionsGet(0x1000));
            Assert.Equal(KernelLayout.TextPermissions, memory.PermissionsGet(0x1e01));
            Assert.Equal(7UL, memory.PermissionsGet(0x1e02)); // the text/rodata gap Linux frees
            Assert.Equal(KernelLayout.RodataPermissions, memory.PermissionsGet(0x28e6));
            Assert.Equal(KernelLayout.DataPermissions, memory.PermissionsGet(0x2a00));
            Assert.Equal(7UL, memory.PermissionsGet(0x3042)); // init, dropped after boot
            Assert.Equal(KernelLayout.DataPermissions, memory.PermissionsGet(0x330d)); // .bss
            Assert.Equal(7UL, memory.PermissionsGet(0x4600)); // .init.scratch
        }
    }

    [Fact]
    public void A_guest_too_small_for_the_kernel_is_refused_with_the_size_it_needs()
    {
        var spec = new GuestKernelSpec(Debian, ModuleChoice.None, ModuleChoice.None);

        Assert.Null(spec.Problem(1024));
        Assert.Equal("the kernel debian-6.1.0-47-amd64 needs at least 94 MiB of guest memory, got 64", spec.Problem(64));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelLayout.ForImage(Debian, 64 * VmConfig.PagesPerMiB));
    }

    [Fact]
    public void An_image_without_rodata_or_data_is_refused_by_name()
    {
        var noRodata = Debian.Kernel with { Sections = Debian.Kernel.Sections.Where(s => s.Name != ".rodata").ToList(), Source = "k" };
        Assert.False(ImageProtection.TryPlan(noRodata, out _, out var error));
        Assert.Equal("k: no loadable .rodata section: not a Linux x86-64 kernel image this tool can lay out", error);

        var shared = Debian.Kernel with
        {
            Source = "k",
            Sections = Debian.Kernel.Sections.Select(s => s.Name == ".rodata" ? s with { PhysicalAddress = 0x1e01000 } : s).ToList(),
        };
        Assert.False(ImageProtection.TryPlan(shared, out _, out error));
        Assert.Contains("share a page", error, StringComparison.Ordinal);
    }
}
