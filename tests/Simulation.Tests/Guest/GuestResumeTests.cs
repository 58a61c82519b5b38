using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Guest;

/// <summary>
/// Issue 8 item 4, <c>heki simulate --resume</c>: a guest kernel that takes over a VM an earlier run left in the journal
/// makes no boot hypercall, reads back what it knows of its own memory from the VM's protections, and never asks to
/// protect a page again (immutable pages would refuse it).
/// </summary>
public sealed class GuestResumeTests
{
    private static readonly KernelPackage Debian = ShippedKernels.Debian;
    private const ulong MemoryMb = 64;

    private static GuestKernel Synthetic(ulong seed = 3) => new(KernelLayout.For(MemoryMb * VmConfig.PagesPerMiB), 2, WorkloadMix.Default, null, seed);

    private static GuestKernel Real(ulong seed = 3, int rounds = 6) =>
        new(KernelLayout.ForImage(Debian, 1024 * VmConfig.PagesPerMiB), 2, WorkloadMix.Default,
            new GuestKernelSpec(Debian, ModuleChoice.Counted(4), ModuleChoice.Counted(6)), seed, rounds);

    /// <summary>The earlier run: boot, then <paramref name="rounds"/> rounds of the kernel's own changes, on <paramref name="memory"/>.</summary>
    private static void Run(GuestKernel kernel, VmMemoryAttributes memory, int rounds, int firstRound = 0, List<(KernelEvent Event, long Ret)>? results = null)
    {
        if (firstRound == 0 && kernel.Counters[KernelCounter.Resumes] == 0)
        {
            var boot = kernel.BootOperations();
            for (var i = 0; i < boot.Count; i++)
                kernel.BootCompleted(i, boot[i] is ProtectOperation protect ? ProtectMemory.Apply(memory, protect.ListPages, mbec: true).Ret : 0);
        }

        for (var round = firstRound; round < firstRound + rounds; round++)
        {
            foreach (var ev in kernel.EventsForRound(round))
            {
                var ret = ProtectMemory.Apply(memory, ev.Operation.ListPages, mbec: true).Ret;
                results?.Add((ev, ret));
                kernel.Completed(ev, ret);
            }
        }
    }

    private static ProtectedRuns Protections(VmMemoryAttributes memory) => new(memory.Store.Runs.ToArray());

    private static void AssertSameWorkload(WorkloadSpec expected, WorkloadSpec actual)
    {
        Assert.Equal(expected.KernelExec.ToArray(), actual.KernelExec.ToArray());
        Assert.Equal(expected.KernelRead.ToArray(), actual.KernelRead.ToArray());
        Assert.Equal(expected.KernelWrite.ToArray(), actual.KernelWrite.ToArray());
        Assert.Equal(expected.User.ToArray(), actual.User.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(20)]
    public void Hardened_synthetic_kernel_reads_back_its_downgrades_and_modules(int rounds)
    {
        var memory = new VmMemoryAttributes(HekiProfile.Hardened);
        var earlier = Synthetic();
        Run(earlier, memory, rounds);

        var resumed = Synthetic();
        Assert.True(resumed.Resume(Protections(memory), mbec: true));

        Assert.Equal(earlier.Downgraded, resumed.Downgraded);
        Assert.Equal(earlier.ModulesLoaded, resumed.ModulesLoaded);
        AssertSameWorkload(earlier.Workload, resumed.Workload);
        Assert.Equal(1, resumed.Counters[KernelCounter.Resumes]);
        Assert.Equal(0, resumed.Counters[KernelCounter.Boots]);
        Assert.Equal(0, resumed.Counters[KernelCounter.KernelHypercalls]);
        // It carries on where the earlier one was: the same next events.
        Assert.Equal(earlier.EventsForRound(rounds).Select(e => (e.Kind, e.Index)), resumed.EventsForRound(0).Select(e => (e.Kind, e.Index)));
    }

    [Fact]
    public void HekiV2_synthetic_kernel_reads_back_its_modules_but_not_the_downgrades_heki_v2_dropped()
    {
        var memory = new VmMemoryAttributes(HekiProfile.HekiV2);
        var earlier = Synthetic();
        Run(earlier, memory, 5);

        var resumed = Synthetic();
        Assert.True(resumed.Resume(Protections(memory), mbec: true));

        Assert.Equal(5UL, earlier.Downgraded);
        Assert.Equal(0UL, resumed.Downgraded);
        Assert.Equal(earlier.ModulesLoaded, resumed.ModulesLoaded);
        AssertSameWorkload(earlier.Workload, resumed.Workload);
    }

    public static TheoryData<HekiProfile, bool, int> Continuations()
    {
        var data = new TheoryData<HekiProfile, bool, int>();
        foreach (var profile in new[] { HekiProfile.Hardened, HekiProfile.HekiV2 })
        {
            foreach (var real in new[] { false, true })
            {
                foreach (var rounds in new[] { 0, 2, 5 })
                    data.Add(profile, real, rounds);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Continuations))]
    public void A_resumed_kernel_never_asks_to_protect_a_page_again(HekiProfile profile, bool real, int rounds)
    {
        var memory = new VmMemoryAttributes(profile);
        Run(real ? Real() : Synthetic(), memory, rounds);

        var resumed = real ? Real() : Synthetic();
        Assert.True(resumed.Resume(Protections(memory), mbec: true));
        var results = new List<(KernelEvent Event, long Ret)>();
        Run(resumed, memory, 6, results: results);

        // Loads, downgrades and data releases all succeed; only an unload's attempt to make its immutable text writable
        // is refused, as in any run.
        Assert.Contains(results, r => r.Event.Kind == KernelEventKind.ModuleLoad);
        Assert.All(results.Where(r => r.Event.Kind != KernelEventKind.ModuleUnloadLocked), r => Assert.Equal(Errno.Ok, r.Ret));
        Assert.Equal(0, resumed.Counters[KernelCounter.ModuleLoadFailures]);
    }

    [Fact]
    public void Booting_again_on_a_recovered_VM_would_be_refused_which_is_why_a_resumed_kernel_does_not()
    {
        var memory = new VmMemoryAttributes(HekiProfile.Hardened);
        Run(Synthetic(), memory, 1);
        var again = Synthetic().BootOperations().OfType<ProtectOperation>().First();
        Assert.Equal(Errno.EPERM, ProtectMemory.Apply(memory, again.ListPages, mbec: true).Ret);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void A_real_kernel_resumed_right_after_boot_knows_its_boot_modules(HekiProfile profile)
    {
        var memory = new VmMemoryAttributes(profile);
        var earlier = Real();
        Run(earlier, memory, 0);

        var resumed = Real();
        Assert.True(resumed.Resume(Protections(memory), mbec: true));

        AssertSameWorkload(earlier.Workload, resumed.Workload);
        var random = new Vcpu.Workload.GuestRandom(9);
        var random2 = new Vcpu.Workload.GuestRandom(9);
        Assert.Equal(earlier.DowngradeTarget(ref random), resumed.DowngradeTarget(ref random2));
    }

    [Fact]
    public void A_resumed_real_kernel_counts_only_the_loads_it_makes_not_the_earlier_runs_boot_loads()
    {
        var memory = new VmMemoryAttributes(HekiProfile.Hardened);
        Run(Real(), memory, 2);

        var resumed = Real();
        Assert.True(resumed.Resume(Protections(memory), mbec: true));
        foreach (var counter in new[] { KernelCounter.ModuleLoads, KernelCounter.BootModuleLoads, KernelCounter.ModuleLoadRanges,
                     KernelCounter.ModuleLoadListPages, KernelCounter.ModuleTextPages, KernelCounter.ModuleRodataPages,
                     KernelCounter.ModuleRoAfterInitPages, KernelCounter.ModuleDataPages })
            Assert.True(resumed.Counters[counter] == 0, $"{counter} is {resumed.Counters[counter]} before the resumed kernel made any hypercall");

        var results = new List<(KernelEvent Event, long Ret)>();
        Run(resumed, memory, 6, firstRound: 2, results: results);
        var loads = results.Where(r => r.Event.Kind == KernelEventKind.ModuleLoad).ToList();
        Assert.NotEmpty(loads);
        Assert.Equal(loads.Count, resumed.Counters[KernelCounter.ModuleLoads]);
        Assert.Equal(0, resumed.Counters[KernelCounter.BootModuleLoads]);
        Assert.Equal(loads.Sum(l => l.Event.Operation.RangeCount), resumed.Counters[KernelCounter.ModuleLoadRanges]);
    }

    [Fact]
    public void A_real_kernel_whose_boot_modules_are_not_in_force_counts_them_failed_and_loads_elsewhere()
    {
        // An earlier run with other boot modules (another seed's choice): this kernel's own are not there.
        var memory = new VmMemoryAttributes(HekiProfile.Hardened);
        Run(Real(seed: 11), memory, 2);
        var resumed = Real(seed: 12);
        Assert.True(resumed.Resume(Protections(memory), mbec: true)); // the kernel image is the same
        var results = new List<(KernelEvent Event, long Ret)>();
        Run(resumed, memory, 6, results: results);
        Assert.All(results.Where(r => r.Event.Kind == KernelEventKind.ModuleLoad), r => Assert.Equal(Errno.Ok, r.Ret));
    }

    [Fact]
    public void A_kernel_resumes_once_and_never_after_booting()
    {
        var kernel = Synthetic();
        Assert.False(kernel.Resume(new ProtectedRuns([]), mbec: true));
        Assert.Throws<InvalidOperationException>(() => kernel.Resume(new ProtectedRuns([]), mbec: true));
        var booted = Synthetic();
        Run(booted, new VmMemoryAttributes(HekiProfile.Hardened), 1);
        Assert.Throws<InvalidOperationException>(() => booted.Resume(new ProtectedRuns([]), mbec: true));
    }

    [Fact]
    public void A_VM_booted_with_another_kernel_or_whose_boot_protection_failed_is_not_in_force()
    {
        var memory = new VmMemoryAttributes(HekiProfile.Hardened);
        Run(Synthetic(), memory, 1);
        Assert.False(Real().Resume(Protections(memory), mbec: true));
        Assert.False(Synthetic().Resume(new ProtectedRuns([]), mbec: true));
        // Without MBEC the boot's ranges were stored with EXEC forced on: that is what is in force then.
        var noMbec = new VmMemoryAttributes(HekiProfile.Hardened);
        foreach (var op in Synthetic().BootOperations().OfType<ProtectOperation>())
            ProtectMemory.Apply(noMbec, op.ListPages, mbec: false);
        Assert.True(Synthetic().Resume(Protections(noMbec), mbec: false));
        Assert.False(Synthetic().Resume(Protections(noMbec), mbec: true));
    }

    [Fact]
    public void Protected_runs_answer_whether_a_range_holds_one_word()
    {
        var runs = new ProtectedRuns([new AttributeRun(2, 5, 0xD0), new AttributeRun(5, 8, 0x30), new AttributeRun(10, 12, 0x30)]);
        Assert.True(runs.Holds(new GfnRange(2, 5), 0xD0));
        Assert.True(runs.Holds(new GfnRange(3, 4), 0xD0));
        Assert.False(runs.Holds(new GfnRange(2, 6), 0xD0));
        Assert.False(runs.Holds(new GfnRange(7, 11), 0x30)); // a gap at 8..10
        Assert.False(runs.Holds(new GfnRange(0, 3), 0xD0));
        Assert.Equal([new AttributeRun(4, 5, 0xD0), new AttributeRun(5, 8, 0x30), new AttributeRun(10, 11, 0x30)], runs.Within(new GfnRange(4, 11)));
        Assert.Throws<ArgumentException>(() => new ProtectedRuns([new AttributeRun(5, 8, 1), new AttributeRun(2, 6, 1)]));
    }

    [Fact]
    public void The_allocator_reserves_only_what_is_free()
    {
        var allocator = new ModuleAllocator(new GfnRange(0, 100));
        Assert.Equal(new GfnRange(0, 10), allocator.Allocate(10));
        Assert.Equal(10UL, allocator.Reserve(new GfnRange(5, 20))); // 5..10 is allocated already
        Assert.Equal(new GfnRange(20, 30), allocator.Allocate(10));
        Assert.Equal(10UL, allocator.Reserve(new GfnRange(40, 50)));
        Assert.Equal(new GfnRange(30, 40), allocator.Allocate(10));
        Assert.Equal(new GfnRange(50, 70), allocator.Allocate(20));
    }
}
