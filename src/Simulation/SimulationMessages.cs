using Akka.Actor;
using HekiActors.Vcpu.Workload;
using HekiActors.Protocol;

namespace HekiActors.Simulation;

// The engine's messages to its coordinator (the coordinator's protocol with the guest kernels is in
// HekiActors.Protocol). They stay in the engine's process by construction: the engine asks, in-process, and the
// coordinator holds the caller's progress and recorder callbacks, so they are never serialized.

/// <summary>Starts the run; the coordinator replies <see cref="SimulationFinished"/> when it is over.</summary>
internal sealed record StartSimulation : INoSerializationVerificationNeeded
{
    public static readonly StartSimulation Instance = new();
}

/// <summary>Stops the run early: running workloads stop after their chunk, and the result holds what was counted.</summary>
internal sealed record StopSimulation : INoSerializationVerificationNeeded
{
    public static readonly StopSimulation Instance = new();
}

/// <summary>The coordinator's answer to <see cref="StartSimulation"/>.</summary>
internal sealed record SimulationFinished(SimulationResult Result) : INoSerializationVerificationNeeded;

/// <summary>What a guest-kernel actor counts for its VM (and the coordinator for all of them), handed over as <see cref="VmCounts"/>.</summary>
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

    /// <summary>The counts as an immutable message payload.</summary>
    public VmCounts ToCounts() => new(Permitted, Faulted, Mmio, Misses, Hypercalls, HypercallFailures, ImmutableRejections, AttackViolations,
        [.. Attempted], [.. Blocked], [.. Succeeded], [.. Why], FastPath.ToSnapshot(), SlowPath.ToSnapshot(), HypercallLatency.ToSnapshot());

    /// <summary>Adds one VM's counts (the first success's reason per kind is kept).</summary>
    public void Add(VmCounts vm)
    {
        Permitted += vm.Permitted;
        Faulted += vm.Faulted;
        Mmio += vm.Mmio;
        Misses += vm.Misses;
        Hypercalls += vm.Hypercalls;
        HypercallFailures += vm.HypercallFailures;
        ImmutableRejections += vm.ImmutableRejections;
        AttackViolations += vm.AttackViolations;
        for (var k = 0; k < AttackKinds.Count; k++)
        {
            Attempted[k] += vm.Attempted[k];
            Blocked[k] += vm.Blocked[k];
            Succeeded[k] += vm.Succeeded[k];
            Why[k] ??= vm.Why[k];
        }

        FastPath.Add(vm.FastPath);
        SlowPath.Add(vm.SlowPath);
        HypercallLatency.Add(vm.HypercallLatency);
    }
}
