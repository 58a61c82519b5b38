using System.Collections.Immutable;

namespace HekiActors.Protocol;

// Messages between a simulation's coordinator and its guest-kernel actors (one per simulated VM). The guest
// kernels talk to their VMs with the guest and host protocols, like any other client.

/// <summary>A message between the simulation coordinator and its guest kernels.</summary>
public interface ISimulationMessage : IHekiMessage;

/// <summary>Coordinator → guest kernel: create the VM and boot the kernel. Replies <see cref="VmBooted"/>.</summary>
public sealed record BootVm : ISimulationMessage
{
    public static readonly BootVm Instance = new();
}

/// <summary>A VM is up with its kernel protections (or failed to boot, with why).</summary>
public sealed record VmBooted(int Index, string? Error) : ISimulationMessage;

/// <summary>
/// Coordinator → guest kernel: run the rounds. Each round runs up to <paramref name="AccessesPerRound"/> (the
/// round's share of the per-vCPU budget) and, with a duration, until its share of the duration has passed.
/// </summary>
/// <param name="WorkloadStart">When the workload phase started, by the scheduler's clock (absolute, so the schedule means the same anywhere).</param>
/// <param name="Duration">The workload duration; null for none.</param>
public sealed record RunRounds(int Rounds, ImmutableArray<long> AccessesPerRound, DateTimeOffset WorkloadStart, TimeSpan? Duration)
    : ISimulationMessage;

/// <summary>Coordinator → guest kernel: stop early (cancellation); running workloads end at their next chunk.</summary>
public sealed record StopGuest : ISimulationMessage
{
    public static readonly StopGuest Instance = new();
}

/// <summary>One VM finished a round: its counts, for progress.</summary>
public sealed record RoundDone(int Index, long Round, long Accesses, long Faulted, long AttacksBlocked, long AttacksSucceeded)
    : ISimulationMessage;

/// <summary>A VM finished its rounds (or stopped): everything it counted.</summary>
public sealed record VmFinished(int Index, VmCounts Counts) : ISimulationMessage;

/// <summary>
/// Everything one simulated VM counted. The attack arrays are indexed by attack kind (the simulation's
/// AttackKind order); <paramref name="Why"/> names, per kind, the rule that let the first success through.
/// </summary>
/// <param name="AttackViolations">#PF and #GP injected by attack probes.</param>
public sealed record VmCounts(
    long Permitted,
    long Faulted,
    long Mmio,
    long Misses,
    long Hypercalls,
    long HypercallFailures,
    long ImmutableRejections,
    long AttackViolations,
    ImmutableArray<long> Attempted,
    ImmutableArray<long> Blocked,
    ImmutableArray<long> Succeeded,
    ImmutableArray<string?> Why,
    LatencySnapshot FastPath,
    LatencySnapshot SlowPath,
    LatencySnapshot HypercallLatency);
