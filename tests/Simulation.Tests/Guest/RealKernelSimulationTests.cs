using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Guest;

/// <summary>Whole simulations of the shipped Debian kernel: counts, attack outcomes per profile, recording and replay.</summary>
public sealed class RealKernelSimulationTests
{
    private static SimulationSpec Spec(HekiProfile profile, GuestKernelSpec? kernel = null, int vms = 3, int rounds = 4) => new(
        Vms: vms, VcpusPerVm: 2, MemoryMbPerVm: 256, Profile: profile, Mbec: true, Duration: null, AccessesPerVcpu: 4_000,
        Rounds: rounds, Seed: 11, Workload: WorkloadMix.Default, Attacks: AttackMix.Default,
        Kernel: kernel ?? new GuestKernelSpec(ShippedKernels.Debian, ModuleChoice.Counted(5), ModuleChoice.Counted(8)));

    private static Task<SimulationResult> Run(SimulationSpec spec, ISimulationRecorder? recorder = null) =>
        new SimulationEngine().RunAsync(spec, null, recorder, CancellationToken.None);

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public async Task Boot_and_module_counts_follow_from_the_spec_and_unloads_are_refused_for_immutable_pages(HekiProfile profile)
    {
        var result = await Run(Spec(profile));

        var k = result.GuestKernel!;
        Assert.Equal("debian-6.1.0-47-amd64", k.Kernel);
        Assert.Equal(3, k[KernelCounter.Boots]);
        Assert.Equal((1.0, 4.0, 1.0, 2.0), (k.PerBoot(KernelCounter.BootProtectCalls), k.PerBoot(KernelCounter.BootRanges),
            k.PerBoot(KernelCounter.BootListPages), k.PerBoot(KernelCounter.CrPinCalls)));
        Assert.Equal((3586.0, 2279.0, 5999.0), (k.PerBoot(KernelCounter.BootTextPages), k.PerBoot(KernelCounter.BootRodataPages),
            k.PerBoot(KernelCounter.BootDataPages)));
        Assert.Equal(0, k[KernelCounter.BootProtectFailures] + k[KernelCounter.CrPinFailures]);
        Assert.Equal(3 * (5 + 8), k[KernelCounter.ModuleLoads]);
        Assert.Equal(3 * 5, k[KernelCounter.BootModuleLoads]);
        Assert.Equal(0, k[KernelCounter.ModuleLoadFailures]);
        // 8 run modules over 4 rounds: 2 a round, each unloaded the next round; the last round's 2 stay.
        Assert.Equal(3 * 6, k[KernelCounter.ModuleUnloads]);
        Assert.Equal(k[KernelCounter.ModuleUnloads], k[KernelCounter.ImmutableReleasesRefused]);
        Assert.Equal(0, k[KernelCounter.ImmutableReleasesAccepted]);
        Assert.Equal(k[KernelCounter.ModuleUnloads], k[KernelCounter.MutableReleases]);
        Assert.Equal(4096UL, k.UnprotectedBelowKernel);
        Assert.Equal(1729UL, k.InitPagesDropped);
        Assert.Equal(0, result.Counts.WorkloadPageFaults); // the workload keeps to what the kernel allows
        Assert.Empty(result.BootFailures);
    }

    [Fact]
    public async Task Hardened_blocks_every_attack_and_heki_v2_lets_module_ro_after_init_abuse_through()
    {
        var hardened = await Run(Spec(HekiProfile.Hardened));
        var v2 = await Run(Spec(HekiProfile.HekiV2));

        Assert.All(hardened.Attacks, t => Assert.Equal(0, t.Succeeded));
        var abuse = Assert.Single(v2.Attacks, t => t.Kind == AttackKind.RelaxMutableThenAbuse);
        Assert.True(abuse.Succeeded > 0);
        Assert.Contains("heki-v2 drops pure downgrades", abuse.Why);
        Assert.All(v2.Attacks.Where(t => t.Kind != AttackKind.RelaxMutableThenAbuse), t => Assert.Equal(0, t.Succeeded));
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_counts()
    {
        var first = await Run(Spec(HekiProfile.HekiV2));
        var second = await Run(Spec(HekiProfile.HekiV2));

        Assert.Equal(first.Accesses, second.Accesses);
        Assert.Equal((first.Hypercalls, first.HypercallFailures, first.ImmutableRejections), (second.Hypercalls, second.HypercallFailures, second.ImmutableRejections));
        Assert.Equal(string.Join(";", first.Attacks), string.Join(";", second.Attacks));
        Assert.All(Enum.GetValues<KernelCounter>(), c => Assert.Equal(first.GuestKernel![c], second.GuestKernel![c]));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public async Task A_recorded_run_replays_to_the_same_results(HekiProfile profile)
    {
        var recorder = new LinesRecorder();
        await Run(Spec(profile, vms: 2), recorder);

        var replayed = await SimulationReplayer.Replay(recorder.Lines, profile);

        var observed = replayed.Where(r => r.Request.TryGetProperty("observed", out _)).ToList();
        Assert.All(observed, r => Assert.Equal(r.Request.GetProperty("observed").ToString(), r.Result));
        var events = replayed.Where(r => r.Request.TryGetProperty("event", out _)).GroupBy(r => r.Request.GetProperty("event").GetString())
            .ToDictionary(g => g.Key!, g => g.ToList());
        Assert.Equal(2 * (5 + 8), events["module_load"].Count);
        Assert.All(events["module_load"], r => Assert.Equal("0", r.Result));
        // Each unload: text and rodata refused (-1), data allowed (0).
        Assert.Equal(2 * 6 * 2, events["module_unload"].Count);
        Assert.Equal(2 * 6, events["module_unload"].Count(r => r.Result == "-1"));
    }

    [Fact]
    public async Task A_spec_without_a_kernel_boots_the_default_guest_and_both_defaults_run()
    {
        var none = await Run(Spec(HekiProfile.Hardened, vms: 1, rounds: 2) with { Kernel = null });
        Assert.Equal(GuestKernelSpec.Default.Name, none.GuestKernel!.Kernel);

        var synthetic = await Run(Spec(HekiProfile.Hardened, GuestKernelSpec.For(DefaultGuest.Synthetic), vms: 1, rounds: 2));
        var debian = await Run(Spec(HekiProfile.Hardened, GuestKernelSpec.For(DefaultGuest.Debian), vms: 1, rounds: 2));

        Assert.Equal(KernelLayout.SyntheticName, synthetic.GuestKernel!.Kernel);
        Assert.Equal(2, synthetic.GuestKernel[KernelCounter.KernelDowngrades]);
        Assert.Equal(0, synthetic.GuestKernel[KernelCounter.ModuleUnloads]);
        Assert.Equal(ShippedKernels.DebianName, debian.GuestKernel!.Kernel);
        Assert.Equal(GuestKernelSpec.DefaultGuestBootModules + GuestKernelSpec.DefaultGuestRunModules, debian.GuestKernel[KernelCounter.ModuleLoads]);
        Assert.Equal(4.0, debian.GuestKernel.PerBoot(KernelCounter.BootRanges));
        Assert.All(new[] { synthetic, debian }, r => Assert.All(r.Attacks, t => Assert.Equal(0, t.Succeeded)));
    }

    [Fact]
    public async Task A_spec_whose_kernel_does_not_fit_its_guest_is_refused_before_anything_runs()
    {
        var spec = Spec(HekiProfile.Hardened, vms: 1) with { MemoryMbPerVm = 64 };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Run(spec));

        Assert.Contains("needs at least 94 MiB of guest memory, got 64", error.Message, StringComparison.Ordinal);
    }

    private sealed class LinesRecorder : ISimulationRecorder
    {
        private readonly Lock _gate = new();

        public List<string> Lines { get; } = [];

        public void Record(string jsonRequestLine)
        {
            lock (_gate)
                Lines.Add(jsonRequestLine);
        }
    }
}
