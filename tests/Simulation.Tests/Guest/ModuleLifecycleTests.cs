using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation.Tests.Guest;

/// <summary>
/// Real modules: loads protect text and rodata immutable, ro_after_init is downgraded after init, unloads cannot
/// release immutable pages (quarantined for good) but do release data, chosen from the VM's seed or by name.
/// </summary>
public sealed class ModuleLifecycleTests
{
    private static readonly KernelPackage Debian = ShippedKernels.Debian;
    private static readonly KernelLayout Layout = KernelLayout.ForImage(Debian, 1024 * VmConfig.PagesPerMiB);

    private static GuestKernel Kernel(ModuleChoice boot, ModuleChoice run, ulong seed = 5, int rounds = 4) =>
        new(Layout, 2, WorkloadMix.Default, new GuestKernelSpec(Debian, boot, run), seed, rounds);

    [Fact]
    public void A_load_protects_text_and_rodata_immutable_and_the_rest_read_write_then_downgrades_ro_after_init()
    {
        var module = Debian.Modules.First(m => m.RoAfterInitBytes > 0 && m.RodataBytes > 0);
        var kernel = Kernel(ModuleChoice.Named([module.Name]), ModuleChoice.None);

        var boot = kernel.BootOperations().OfType<ProtectOperation>().Skip(1).ToList();

        var load = boot[0].ListPages.Single();
        var start = Layout.ModuleArea.Start << 12;
        var text = start + module.TextBytes;
        var rodata = text + module.RodataBytes;
        Assert.Equal(
        [
            new MemoryRange(start, text, KernelLayout.TextPermissions),
            new MemoryRange(text, rodata, KernelLayout.RodataPermissions),
            new MemoryRange(rodata, rodata + module.RoAfterInitBytes + module.DataBytes, KernelLayout.DataPermissions),
        ], load);
        Assert.Equal(new MemoryRange(rodata, rodata + module.RoAfterInitBytes, HekiAttributes.Read), boot[1].ListPages.Single().Single());
        Assert.Equal("module_load", kernel.BootTag(3 + 2 * 2));
        Assert.Equal("module_init", kernel.BootTag(3 + 2 * 2 + 1));
        Assert.Null(kernel.BootTag(0));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void An_unload_is_refused_for_text_and_rodata_and_allowed_for_data_so_only_data_is_reused(HekiProfile profile)
    {
        var memory = new VmMemoryAttributes(profile);
        var kernel = Kernel(ModuleChoice.None, ModuleChoice.Counted(4), rounds: 4);
        foreach (var op in kernel.BootOperations().OfType<ProtectOperation>())
            ProtectMemory.Apply(memory, op.ListPages, mbec: true);
        var rets = new List<(KernelEventKind, long)>();
        for (var round = 0; round < 4; round++)
        {
            foreach (var ev in kernel.EventsForRound(round))
            {
                var ret = ProtectMemory.Apply(memory, ev.Operation.ListPages, mbec: true).Ret;
                rets.Add((ev.Kind, ret));
                kernel.Completed(ev, ret);
            }
        }

        var c = kernel.Counters;
        Assert.Equal(4, c[KernelCounter.ModuleLoads]);
        Assert.Equal(3, c[KernelCounter.ModuleUnloads]); // the last round's module stays loaded
        Assert.All(rets.Where(r => r.Item1 == KernelEventKind.ModuleLoad), r => Assert.Equal(0, r.Item2));
        Assert.All(rets.Where(r => r.Item1 == KernelEventKind.ModuleUnloadLocked), r => Assert.Equal(Errno.EPERM, r.Item2));
        Assert.All(rets.Where(r => r.Item1 == KernelEventKind.ModuleUnloadData), r => Assert.Equal(0, r.Item2));
        Assert.Equal(3, c[KernelCounter.ImmutableReleasesRefused]);
        Assert.Equal(0, c[KernelCounter.ImmutableReleasesAccepted]);
        Assert.Equal(3, c[KernelCounter.MutableReleases]);
        Assert.True(c[KernelCounter.PagesQuarantined] > 0);
        Assert.True(c[KernelCounter.PagesReturned] > 0);
    }

    [Fact]
    public void Freed_data_pages_are_reused_and_quarantined_pages_never_are()
    {
        var allocator = new ModuleAllocator(new GfnRange(100, 110));
        var a = allocator.Allocate(4)!.Value;
        var b = allocator.Allocate(4)!.Value;
        Assert.Equal((new GfnRange(100, 104), new GfnRange(104, 108)), (a, b));
        Assert.Null(allocator.Allocate(3));

        allocator.Quarantine(new GfnRange(100, 102));
        allocator.Free(new GfnRange(102, 104));
        allocator.Free(new GfnRange(104, 108));

        Assert.Equal(new GfnRange(102, 110), allocator.Allocate(8));
        Assert.Equal(2UL, allocator.QuarantinedPages);
        Assert.Equal(0UL, allocator.FreePages);
    }

    [Fact]
    public void Module_choices_come_from_the_vm_seed_and_names_are_kept_in_order()
    {
        string Loads(GuestKernel k) => string.Join(",", Enumerable.Range(0, 4).SelectMany(r => k.EventsForRound(r))
            .Where(e => e.Kind == KernelEventKind.ModuleLoad).Select(e => e.Index));

        Assert.Equal(Loads(Kernel(ModuleChoice.Counted(3), ModuleChoice.Counted(8), seed: 1)),
            Loads(Kernel(ModuleChoice.Counted(3), ModuleChoice.Counted(8), seed: 1)));
        Assert.NotEqual(Loads(Kernel(ModuleChoice.Counted(3), ModuleChoice.Counted(8), seed: 1)),
            Loads(Kernel(ModuleChoice.Counted(3), ModuleChoice.Counted(8), seed: 2)));

        var names = Debian.Modules.Take(3).Select(m => m.Name).Reverse().ToList();
        var named = Kernel(ModuleChoice.None, ModuleChoice.Named(names), rounds: 3);
        Assert.Equal(string.Join(",", names.Select(n => Debian.Modules.ToList().FindIndex(m => m.Name == n))), Loads(named));
    }

    [Fact]
    public void Counted_choices_are_a_partial_Fisher_Yates_shuffle_of_the_modules_not_taken_drawn_from_the_vm_seed()
    {
        // The reference: the whole pool as an array (what the lifecycle computes without materializing it).
        static int[] Shuffle(int modules, int[] taken, int count, ref GuestRandom random)
        {
            var pool = Enumerable.Range(0, modules).Except(taken).ToArray();
            count = Math.Min(count, pool.Length);
            for (var i = 0; i < count; i++)
            {
                var j = i + (int)random.NextBelow((ulong)(pool.Length - i));
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }

            return pool[..count];
        }

        for (var seed = 1UL; seed <= 20; seed++)
        {
            var random = new GuestRandom(GuestRandom.Derive(seed, 0x40D));
            var boot = Shuffle(Debian.Modules.Count, [], 3, ref random);
            var run = Shuffle(Debian.Modules.Count, boot, 8, ref random);
            var kernel = Kernel(ModuleChoice.Counted(3), ModuleChoice.Counted(8), seed, rounds: 4);
            var loaded = Enumerable.Range(0, 4).SelectMany(r => kernel.EventsForRound(r))
                .Where(e => e.Kind == KernelEventKind.ModuleLoad).Select(e => e.Index).Order();
            Assert.Equal(run.Order(), loaded);
        }
    }

    [Fact]
    public void Run_modules_spread_over_the_rounds_and_unload_one_round_later()
    {
        var kernel = Kernel(ModuleChoice.None, ModuleChoice.Counted(6), rounds: 3);

        var perRound = Enumerable.Range(0, 3).Select(r =>
        {
            var events = kernel.EventsForRound(r);
            foreach (var ev in events)
                kernel.Completed(ev, 0);
            return (Loads: events.Count(e => e.Kind == KernelEventKind.ModuleLoad), Unloads: events.Count(e => e.Kind == KernelEventKind.ModuleUnloadLocked));
        }).ToList();

        Assert.Equal([(2, 0), (2, 2), (2, 2)], perRound);
        Assert.Equal(2, kernel.Workload.KernelExec.Length - Layout.BaseExec.Length); // the two loaded modules' text
    }

    [Fact]
    public void Quarantined_text_fills_the_module_area_until_a_load_no_longer_fits()
    {
        // Three 1,500-page modules in the smallest guest (a 4,096-page module area), loaded and unloaded in turn:
        // every unload leaves its text immutable, so by the third load only 1,096 pages are left.
        var big = new[] { "a", "b", "c" }.Select(n => new ModuleImage(n, 1500 * ModuleImage.PageSize, 0, 0, 0, 0)).ToList();
        var package = Debian with { Modules = big };
        Assert.True(ImageProtection.TryPlan(package.Kernel, out var image, out _));
        var layout = KernelLayout.ForImage(package, KernelLayout.MinimumPagesFor(image));
        Assert.Equal(4096UL, layout.ModuleArea.Length);
        var kernel = new GuestKernel(layout, 1, WorkloadMix.Default,
            new GuestKernelSpec(package, ModuleChoice.None, ModuleChoice.Named(["a", "b", "c"])), 1, rounds: 3);

        var loads = Enumerable.Range(0, 3).Select(r =>
        {
            var events = kernel.EventsForRound(r);
            foreach (var ev in events)
                kernel.Completed(ev, ev.Kind == KernelEventKind.ModuleUnloadLocked ? Errno.EPERM : 0);
            return events.Count(e => e.Kind == KernelEventKind.ModuleLoad);
        }).ToList();

        Assert.Equal([1, 1, 0], loads);
        Assert.Equal(1, kernel.Counters[KernelCounter.ModuleLoadsOutOfMemory]);
        Assert.Equal(3000, kernel.Counters[KernelCounter.PagesQuarantined]);
    }

    [Fact]
    public void The_relax_then_abuse_attack_aims_at_a_downgraded_module_page_or_else_kernel_rodata()
    {
        var random = new HekiActors.Vcpu.Workload.GuestRandom(3);
        var none = Kernel(ModuleChoice.None, ModuleChoice.None);
        Assert.Equal(Layout.Rodata.Start, none.DowngradeTarget(ref random));

        var module = Debian.Modules.First(m => m.RoAfterInitBytes > 0);
        var kernel = Kernel(ModuleChoice.Named([module.Name]), ModuleChoice.None);
        var ops = kernel.BootOperations();
        for (var i = 0; i < ops.Count; i++)
            kernel.BootCompleted(i, 0);
        var target = kernel.DowngradeTarget(ref random);
        var init = ((ProtectOperation)ops[^1]).ListPages.Single().Single();
        Assert.InRange(target << 12, init.Pa, init.Epa - 1);
    }
}
