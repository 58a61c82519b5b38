using Akka.Actor;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;
using HekiActors.Protocol;
using HekiActors.Observability;

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
/// <param name="WorkloadStart">When the workload phase started, by the scheduler's clock (absolute, so the schedule means the same anywhere).</param>
/// <param name="Duration">The workload duration; null for none.</param>
internal sealed record RunRounds(int Rounds, long[] AccessesPerRound, DateTimeOffset WorkloadStart, TimeSpan? Duration);

/// <summary>Coordinator → guest kernel: stop early (cancellation); running workloads end at their next chunk.</summary>
internal sealed record StopGuest
{
    public static readonly StopGuest Instance = new();
}

/// <summary>
/// One VM finished a round: its counts, for progress. <paramref name="Accesses"/> and <paramref name="Faulted"/> are the
/// workload's (already reported by <see cref="WorkloadProgress"/>); the attack figures are what the guest saw of its probes.
/// </summary>
/// <param name="AttackViolations">#PF on attack accesses plus CR writes refused with #GP.</param>
internal sealed record RoundDone(int Index, long Round, long Accesses, long Faulted, long AttacksBlocked, long AttacksSucceeded,
    long AttackAccesses, long AttackViolations);

/// <summary>A VM finished its rounds (or stopped): everything it counted.</summary>
internal sealed record VmFinished(int Index, VmTotals Totals);

/// <summary>Everything one VM counted; built by its guest-kernel actor and handed over once, at the end.</summary>
internal sealed class VmTotals
{
    /// <summary>The vocabulary's counts: the vCPUs' own (<see cref="VcpuCounts"/>) and what the guest saw in its replies.</summary>
    public HekiCounts Counts { get; set; } = HekiCounts.Zero;

    public long[] Attempted { get; } = new long[AttackKinds.Count];
    public long[] Blocked { get; } = new long[AttackKinds.Count];
    public long[] Succeeded { get; } = new long[AttackKinds.Count];
    public string?[] Why { get; } = new string?[AttackKinds.Count];
    public LatencyHistogram FastPath { get; } = new();
    public LatencyHistogram SlowPath { get; } = new();
    public LatencyHistogram HypercallLatency { get; } = new();

    /// <summary>Why the kernel's boot protection failed (null when it did not), and the failing result's name.</summary>
    public (string Reason, string Result)? BootFailure { get; set; }

    /// <summary>Adds a vCPU's counts and latencies.</summary>
    public void Add(VcpuCounts vcpu)
    {
        var a = vcpu.Accesses;
        Counts = Counts.Add(new HekiCounts
        {
            WorkloadPermitted = a[0],
            WorkloadPageFaults = a[1],
            WorkloadMmio = a[2],
            AttackPermitted = a[3],
            AttackPageFaults = a[4],
            AttackMmio = a[5],
            HypercallsByResult = vcpu.HypercallsByResult,
            HypercallsRefusedCpl = vcpu.HypercallsRefusedCpl,
            TranslationFills = vcpu.TranslationFills,
            TranslationInvalidations = vcpu.TranslationInvalidations,
        });
        FastPath.Add(vcpu.FastPath);
        SlowPath.Add(vcpu.SlowPath);
        HypercallLatency.Add(vcpu.Hypercall);
    }
}
