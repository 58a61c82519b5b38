using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Chaos;
using HekiActors.Simulation.Guest;
using Xunit.Abstractions;

namespace HekiActors.Simulation.Tests.Chaos;

/// <summary>
/// heki simulate with a scenario's chaos section (docs/chaos.md, "In heki simulate"): the faults of heki chaos around the
/// guest kernels' requests, decided from the seed, tolerated by the model.
/// </summary>
public sealed class SimulationChaosTests(ITestOutputHelper output)
{
    private static SimulationSpec Spec(SimulationChaos? chaos, HekiProfile profile = HekiProfile.Hardened) => new SimulationSpec(
        Vms: 6, VcpusPerVm: 2, MemoryMbPerVm: 64, Profile: profile, Mbec: true, Duration: null, AccessesPerVcpu: 20_000,
        Rounds: 4, Seed: 11, Workload: WorkloadMix.Default, Attacks: AttackMix.Default, Kernel: GuestKernelSpec.Synthetic) { Chaos = chaos };

    private static SimulationChaos Every(double rate) => new(FaultKinds.All.ToDictionary(k => k, _ => rate), allKinds: true);

    private static Task<SimulationResult> Run(SimulationSpec spec) => new SimulationEngine().RunAsync(spec, null, null, CancellationToken.None);

    /// <summary>What the guest sees: every access's outcome, every CR write refused, every change refused, every attack's verdict.</summary>
    private static object GuestVisible(SimulationResult r) => new
    {
        r.Accesses,
        r.Counts.WorkloadAccesses,
        r.Counts.AttackAccesses,
        r.Counts.CrPinBlocks,
        r.Counts.ImmutableRejections,
        r.Counts.HostIntegrityFaults,
        r.Counts.BootProtectionFailures,
        Attacks = string.Join("; ", r.Attacks),
    };

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public async Task Under_every_fault_kind_the_guest_sees_what_it_sees_without_faults_and_the_same_seed_injects_the_same_faults(HekiProfile profile)
    {
        var plain = await Run(Spec(null, profile));
        var first = await Run(Spec(Every(0.08), profile));
        var second = await Run(Spec(Every(0.08), profile));
        foreach (var (kind, count) in first.Faults!)
            output.WriteLine($"{kind.Name()}: {count}");

        Assert.Null(plain.Faults);
        Assert.Null(first.Failure);
        Assert.Equal(FaultKinds.All, first.Faults!.Keys);
        Assert.True(first.Faults.Values.Sum() > 50, "too few faults to mean anything");
        Assert.True(first.Faults.Count(kv => kv.Value > 0) >= 10, "most kinds should have been injected");
        Assert.Equal(first.Faults, second.Faults);
        // Applied once, answered from the VM's record, recovered from the journal, counted by restarted vCPUs from what
        // the kernel banked before the crash: the guest cannot tell.
        Assert.Equal(GuestVisible(plain), GuestVisible(first));
        Assert.Equal(GuestVisible(plain), GuestVisible(second));
        Assert.Equal(6L * 2 * 20_000, first.Counts.WorkloadAccesses);
    }

    [Fact]
    public async Task Journal_faults_on_a_sqlite_journal_are_refused_before_anything_runs()
    {
        var spec = Spec(Every(0.1)) with { Journal = Actors.Hosting.JournalKind.Sqlite, SqlitePath = Path.Combine(Path.GetTempPath(), $"heki-{Guid.NewGuid():N}.db") };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Run(spec));
        Assert.Contains("journal faults need the in-memory journal", error.Message);
        Assert.False(File.Exists(spec.SqlitePath));
    }
}
