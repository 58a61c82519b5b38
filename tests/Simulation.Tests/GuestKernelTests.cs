using HekiActors.Memory;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Tests;

/// <summary>The guest kernel's layout and its PROTECT_MEMORY lists: coalescing, packing, boot operations, run-time events.</summary>
public sealed class GuestKernelTests
{
    private const ulong Rx = HekiAttributes.Read | HekiAttributes.Exec;

    [Fact]
    public void Guest_coalesce_merges_adjacent_sections_with_identical_permissions_into_one_range()
    {
        var ranges = GuestKernel.Coalesce(
        [
            new KernelSection("a", 10, 12, Rx),
            new KernelSection("b", 12, 20, Rx),
            new KernelSection("c", 20, 21, HekiAttributes.Read),
            new KernelSection("d", 22, 23, HekiAttributes.Read), // a gap: not merged
            new KernelSection("e", 23, 30, HekiAttributes.Read),
        ]);

        Assert.Equal(
        [
            new MemoryRange(10 << 12, 20 << 12, Rx),
            new MemoryRange(20 << 12, 21 << 12, HekiAttributes.Read),
            new MemoryRange(22 << 12, 30 << 12, HekiAttributes.Read),
        ], ranges);
    }

    [Fact]
    public void Guest_pack_puts_at_most_169_ranges_in_a_list_page_in_order()
    {
        var ranges = Enumerable.Range(0, 400).Select(i => new MemoryRange((ulong)i * 8192, (ulong)i * 8192 + 4096, Rx)).ToArray();

        var pages = GuestKernel.Pack(ranges);

        Assert.Equal([169, 169, 62], pages.Select(p => p.Length));
        Assert.Equal(ranges, pages.SelectMany(p => p));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(1024)]
    [InlineData(4096)]
    public void Guest_boot_list_covers_the_layout_with_coalesced_aligned_ranges(ulong memoryMb)
    {
        var layout = KernelLayout.For(memoryMb * VmConfig.PagesPerMiB);
        var kernel = new GuestKernel(layout, 2, WorkloadMix.Default);

        var pages = kernel.BootListPages;
        var ranges = pages.SelectMany(p => p).ToArray();

        Assert.All(pages, page => Assert.InRange(page.Length, 1, ProtectMemory.MaxRangesPerPage));
        Assert.All(ranges, r => Assert.True(r.Pa % 4096 == 0 && r.Epa % 4096 == 0 && r.Epa > r.Pa && r.Epa <= layout.MemoryPages << 12));
        // Coalesced: no two neighbours touch with the same permissions.
        for (var i = 1; i < ranges.Length; i++)
            Assert.False(ranges[i - 1].Epa == ranges[i].Pa && ranges[i - 1].Permissions == ranges[i].Permissions);
        // text, rodata, then data + bss + the heap around each JIT page.
        Assert.Equal(new MemoryRange(layout.Text.Start << 12, layout.Text.End << 12, KernelLayout.TextPermissions), ranges[0]);
        Assert.Equal(new MemoryRange(layout.Rodata.Start << 12, layout.Rodata.End << 12, KernelLayout.RodataPermissions), ranges[1]);
        Assert.Equal(3 + 2 * layout.JitPages.Count, ranges.Length);
        Assert.Same(pages, new GuestKernel(layout, 1, WorkloadMix.Default).BootListPages);
    }

    [Fact]
    public void Guest_a_4_GiB_kernel_needs_more_than_one_list_page()
    {
        var kernel = new GuestKernel(KernelLayout.For(4096 * VmConfig.PagesPerMiB), 2, WorkloadMix.Default);

        Assert.True(kernel.BootListPages.Length >= 2);
        Assert.Equal(ProtectMemory.MaxRangesPerPage, kernel.BootListPages[0].Length);
    }

    [Fact]
    public void Guest_layout_is_deterministic_ordered_and_fits()
    {
        foreach (var mb in new ulong[] { 16, 64, 1024, 4096 })
        {
            var pages = mb * VmConfig.PagesPerMiB;
            var layout = KernelLayout.For(pages);
            Assert.Same(layout, KernelLayout.For(pages));
            var sections = layout.Sections;
            Assert.Equal(KernelLayout.LowMemoryPages, sections[0].StartGfn);
            for (var i = 1; i < sections.Count; i++)
                Assert.Equal(sections[i - 1].EndGfn, sections[i].StartGfn);
            Assert.Equal(layout.Heap.End, layout.ModuleArea.Start);
            Assert.False(layout.User.IsEmpty);
            Assert.Equal(pages, layout.User.End);
            Assert.Equal(layout.ModuleArea.End, layout.ModuleSections(KernelLayout.ModuleSlots - 1)[2].EndGfn);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => KernelLayout.For(KernelLayout.MinimumPages - 1));
    }

    [Fact]
    public void Guest_boot_pins_wp_smep_smap_before_setting_cr0_and_cr4_on_every_vcpu()
    {
        var kernel = new GuestKernel(KernelLayout.For(16384), 3, WorkloadMix.Default);

        var ops = kernel.BootOperations();

        Assert.IsType<ProtectOperation>(ops[0]);
        Assert.Equal(new LockCrOperation(0, 0, CrPinning.Cr0Wp), ops[1]);
        Assert.Equal(new LockCrOperation(0, 4, CrPinning.Cr4Smep | CrPinning.Cr4Smap), ops[2]);
        Assert.Equal(3 * 2, ops.OfType<WriteCrOperation>().Count());
        Assert.All(ops.OfType<WriteCrOperation>(), w => Assert.True(CrPinning.CrWriteCheck(w.Cr, w.Value, new CrPins(CrPinning.Cr0Wp, GuestKernel.Cr4Pin)).Allowed));
    }

    [Fact]
    public void Guest_events_downgrade_one_ro_after_init_page_and_load_one_module_per_round()
    {
        var layout = KernelLayout.For(16384);
        var kernel = new GuestKernel(layout, 2, WorkloadMix.Default);
        var before = kernel.Workload;

        var events = kernel.EventsForRound(0);
        foreach (var ev in events)
            kernel.Completed(ev, 0);

        var downgrade = Assert.Single(events, e => e.Kind == KernelEventKind.Downgrade);
        Assert.Equal(new MemoryRange(layout.RoAfterInit.Start << 12, (layout.RoAfterInit.Start + 1) << 12, HekiAttributes.Read),
            downgrade.Operation.ListPages.Single().Single());
        var load = Assert.Single(events, e => e.Kind == KernelEventKind.ModuleLoad);
        Assert.Equal(3, load.Operation.RangeCount);
        Assert.Equal(1UL, kernel.DowngradedPages.Length);
        Assert.Equal(1, kernel.ModulesLoaded);
        Assert.NotSame(before, kernel.Workload);
    }
}
