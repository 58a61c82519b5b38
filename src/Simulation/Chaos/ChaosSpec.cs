using HekiActors.Actors;
using HekiActors.Memory;

namespace HekiActors.Simulation.Chaos;

/// <summary>One chaos run, validated (the CLI builds it from its options).</summary>
/// <param name="Vms">VMs driven at once (≥ 1), each by its own sequence of operations.</param>
/// <param name="VcpusPerVm">vCPUs per VM (≥ 1).</param>
/// <param name="MemoryMbPerVm">Guest memory per VM in MiB (≥ 1).</param>
/// <param name="Duration">Stop after this long (wall clock); null when <paramref name="OperationsPerVm"/> bounds the run.</param>
/// <param name="OperationsPerVm">Stop after this many operations per VM; null when <paramref name="Duration"/> bounds the run.</param>
/// <param name="Seed">Decides the operations and, with each operation's identity, the faults.</param>
/// <param name="Faults">Which faults, at which rates per operation.</param>
/// <param name="ReplyTimeout">How long a sender waits for a reply before it resends the request (same id).</param>
public sealed record ChaosSpec(
    HekiProfile Profile,
    int Vms,
    int VcpusPerVm,
    ulong MemoryMbPerVm,
    TimeSpan? Duration,
    long? OperationsPerVm,
    ulong Seed,
    FaultPlan Faults,
    TimeSpan? ReplyTimeout = null)
{
    /// <summary>Resends of one request before it counts as unanswered.</summary>
    public const int MaxResends = 8;

    public TimeSpan Timeout => ReplyTimeout ?? TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Journal the VMs to this SQLite file instead of the in-memory chaos journal (no journal faults then): what a
    /// process killed with SIGKILL leaves behind for the next one.
    /// </summary>
    public string? SqlitePath { get; init; }

    /// <summary>
    /// Write every acknowledged operation to this file (<see cref="Chaos.AcknowledgementLog"/>); when it already holds
    /// an earlier process's run, continue that run: the oracle is rebuilt from it and every VM resumes after its last
    /// acknowledged operation, and is probed there.
    /// </summary>
    public string? AcknowledgementLog { get; init; }

    /// <summary>A bug planted on purpose by the tests that prove the oracle can fail; never set outside them.</summary>
    internal PlantedBug Planted { get; init; }
}
