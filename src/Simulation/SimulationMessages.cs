using Akka.Actor;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;
using HekiActors.Protocol;

namespace HekiActors.Simulation;

// Messages between the simulation's coordinator and its guest-kernel actors (one per VM). Only the engine
// (StartSimulation, StopSimulation) talks to the coordinator from outside.

/// <summary>Starts the run on these actors; the coordinator replies <see cref="SimulationResult"/> when it is over.</summary>
internal sealed record StartSimulation(IActorRef Hypervisor, IActorRef Warnings);

/// <summary>Stops the run early: running workloads stop after their chunk, and the result holds what was counted.</summary>
internal sealed record StopSimulation
{
    public static readonly StopSimulation Instance = new();
}

/// <summary>Coordinator → guest kernel: create the VM and boot the kernel. Replies <see cref="VmBooted"/>.</summary>
internal sealed record BootVm
{
    public static readonly BootVm Instance = new();
}

/// <summary>A VM is up with its kernel protections (or failed to boot, with why; or gave up booting because the run was stopped).</summary>
internal sealed record VmBooted(int Index, string? Error, bool Stopped = false);

/// <summary>
/// Coordinator → guest kernel: run the rounds. Each round runs up to <paramref name="AccessesPerRound"/> (the
/// round's share of the per-vCPU budget) and, with a duration, until its share of the duration has passed.
/// </summary>
/// <param name="WorkloadStartUtc">When the workload phase started (wall clock, so the schedule means the same anywhere).</param>
/// <param name="Duration">The workload duration; null for none.</param>
internal sealed record RunRounds(int Rounds, long[] AccessesPerRound, DateTime WorkloadStartUtc, TimeSpan? Duration);

/// <summary>Coordinator → guest kernel: stop early (cancellation); running workloads end at their next chunk.</summary>
internal sealed record StopGuest
{
    public static readonly StopGuest Instance = new();
}

/// <summary>One VM finished a round: its counts, for progress.</summary>
internal sealed record RoundDone(int Index, long Round, long Accesses, long Faulted, long AttacksBlocked, long AttacksSucceeded);

/// <summary>A VM finished its rounds (or stopped): everything it counted.</summary>
internal sealed record VmFinished(int Index, VmTotals Totals);

/// <summary>Everything one VM counted; built by its guest-kernel actor and handed over once, at the end.</summary>
internal sealed class VmTotals
{
    public long Permitted { get; set; }
    public long Faulted { get; set; }
    public long Mmio { get; set; }
    public long Misses { get; set; }
    public long Hypercalls { get; set; }
    public long HypercallFailures { get; set; }
    public long ImmutableRejections { get; set; }

    /// <summary>#PF and #GP injected by attack probes.</summary>
    public long AttackViolations { get; set; }

    public long[] Attempted { get; } = new long[AttackKinds.Count];
    public long[] Blocked { get; } = new long[AttackKinds.Count];
    public long[] Succeeded { get; } = new long[AttackKinds.Count];
    public string?[] Why { get; } = new string?[AttackKinds.Count];
    public LatencyHistogram FastPath { get; } = new();
    public LatencyHistogram SlowPath { get; } = new();
    public LatencyHistogram HypercallLatency { get; } = new();
}
