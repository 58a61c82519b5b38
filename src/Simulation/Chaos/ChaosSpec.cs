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

    /// <summary>A bug planted on purpose by the tests that prove the oracle can fail; never set outside them.</summary>
    internal PlantedBug Planted { get; init; }
}
