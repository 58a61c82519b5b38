using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;

namespace HekiActors.Simulation;

/// <summary>
/// Everything one simulation run needs, already validated (the CLI builds it from a scenario file and options).
/// One run uses one profile; the CLI runs a spec per profile to compare them side by side.
/// </summary>
/// <param name="Vms">Number of VMs (≥ 1).</param>
/// <param name="VcpusPerVm">vCPUs per VM (≥ 1; vCPU 0 also runs the guest kernel's hypercalls).</param>
/// <param name="MemoryMbPerVm">Guest memory per VM in MiB (≥ 16; the kernel layout needs room).</param>
/// <param name="Duration">Stop the workload after this long (wall clock); null when <paramref name="AccessesPerVcpu"/> bounds it.</param>
/// <param name="AccessesPerVcpu">Stop after this many workload accesses per vCPU; null when <paramref name="Duration"/> bounds it.</param>
/// <param name="Rounds">Workload rounds; kernel events and attacks happen between rounds, so counts are deterministic.</param>
/// <param name="Seed">Seed of every random choice: the same spec and seed give the same counts.</param>
/// <param name="Kernel">The guest kernel (docs/guest-kernels.md); null for the default guest (<see cref="GuestKernelSpec.Default"/>).</param>
public sealed record SimulationSpec(
    int Vms,
    int VcpusPerVm,
    ulong MemoryMbPerVm,
    HekiProfile Profile,
    bool Mbec,
    TimeSpan? Duration,
    long? AccessesPerVcpu,
    int Rounds,
    ulong Seed,
    WorkloadMix Workload,
    AttackMix Attacks,
    JournalKind Journal = JournalKind.InMemory,
    string? SqlitePath = null,
    GuestKernelSpec? Kernel = null)
{
    /// <summary>Faults injected around the guest kernels' requests (the scenario's <c>chaos</c> section); null: none.</summary>
    public Chaos.SimulationChaos? Chaos { get; init; }

    /// <summary>The guest kernel every VM boots: <see cref="Kernel"/>, or <see cref="GuestKernelSpec.Default"/> when none is named.</summary>
    public GuestKernelSpec Guest => Kernel ?? GuestKernelSpec.Default;

    /// <summary>The built-in default scenario: a few hundred VMs for about 20 seconds.</summary>
    public static SimulationSpec Default(HekiProfile profile = HekiProfile.Hardened) => new(
        Vms: 300, VcpusPerVm: 2, MemoryMbPerVm: 1024, Profile: profile, Mbec: true,
        Duration: TimeSpan.FromSeconds(20), AccessesPerVcpu: null, Rounds: 10, Seed: 1,
        Workload: WorkloadMix.Default, Attacks: AttackMix.Default);
}

/// <summary>How many attacks of each kind each VM suffers per round.</summary>
public sealed record AttackMix(
    int WriteKernelText,
    int WriteRodata,
    int ExecuteData,
    int RelaxImmutable,
    int RelaxMutableThenAbuse,
    int ClearPinnedCr)
{
    public static readonly AttackMix Default = new(1, 1, 1, 1, 1, 1);

    public static readonly AttackMix None = new(0, 0, 0, 0, 0, 0);
}
