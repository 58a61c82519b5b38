using System.Collections.Immutable;
using Akka.Actor;
using HekiActors.Observability;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation;

// The simulation's protocol: between its coordinator and its guest-kernel actors (one per VM), serialized like
// every HekiActors message (ISimulationMessage; the engine registers this assembly with the serializer). The
// engine's own messages to the coordinator (StartSimulation, StopSimulation, SimulationFinished) stay in its
// process by construction: the engine asks in-process and the coordinator holds the caller's callbacks.

/// <summary>A message between the simulation coordinator and its guest kernels.</summary>
public interface ISimulationMessage : IHekiMessage;

/// <summary>Starts the run on these actors; the coordinator replies <see cref="SimulationFinished"/> when it is over.</summary>
/// <param name="Clock">The clock the warning rate limiters read, when the scenario's chaos section skews it (clock_skew).</param>
internal sealed record StartSimulation(IActorRef Vms, IActorRef Warnings, Chaos.SkewedClock? Clock = null) : INoSerializationVerificationNeeded;

/// <summary>Stops the run early: running workloads stop after their chunk, and the result holds what was counted.</summary>
internal sealed record StopSimulation : INoSerializationVerificationNeeded
{
    public static readonly StopSimulation Instance = new();
}

/// <summary>The coordinator's answer to <see cref="StartSimulation"/>.</summary>
internal sealed record SimulationFinished(SimulationResult Result) : INoSerializationVerificationNeeded;

/// <summary>Coordinator → guest kernel: create the VM and boot the kernel. Replies <see cref="VmBooted"/>.</summary>
public sealed record BootVm : ISimulationMessage
{
    public static readonly BootVm Instance = new();
}

/// <summary>A VM is up with its kernel protections (or failed to boot, with why; or gave up booting because the run was stopped).</summary>
/// <param name="ProtectionFailure">The failing boot hypercall's errno name when the VM booted but could not protect itself (it runs unprotected); null when it did.</param>
public sealed record VmBooted(int Index, string? Error, bool Stopped = false, string? ProtectionFailure = null) : ISimulationMessage;

/// <summary>
/// Coordinator → guest kernel: run the rounds. Each round runs up to its share of <paramref name="AccessesPerVcpu"/>
/// (<see cref="AccessesIn"/>) and, with a duration, until its share of the duration has passed (<see cref="DeadlineOf"/>).
/// Shares are computed per round, never laid out in an array: a run of 2^31 rounds costs no more to describe than one.
/// </summary>
/// <param name="AccessesPerVcpu">The workload budget of each vCPU over all rounds; null for none (the duration bounds it).</param>
/// <param name="WorkloadStart">When the workload phase started, by the scheduler's clock (absolute, so the schedule means the same anywhere).</param>
/// <param name="Duration">The workload duration; null for none.</param>
public sealed record RunRounds(int Rounds, long? AccessesPerVcpu, DateTimeOffset WorkloadStart, TimeSpan? Duration)
    : ISimulationMessage
{
    /// <summary>Round <paramref name="round"/>'s share of the budget: an equal part, the first rounds taking the remainder.</summary>
    public long AccessesIn(long round) => AccessesPerVcpu is { } total
        ? total / Rounds + (round < total % Rounds ? 1 : 0)
        : long.MaxValue;

    /// <summary>When round <paramref name="round"/>'s workload must stop: its cumulative share of the duration
    /// (exact in 128 bits: 7 days of ticks times 2^31 rounds does not fit in 64).</summary>
    public DateTimeOffset DeadlineOf(long round) =>
        WorkloadStart + TimeSpan.FromTicks((long)((Int128)Duration!.Value.Ticks * (round + 1) / Rounds));

    /// <summary>Whether the whole run's time is up (never, without a duration).</summary>
    public bool Over(DateTimeOffset now) => Duration is not null && now >= DeadlineOf(Rounds - 1);
}

/// <summary>Coordinator → guest kernel: stop early (cancellation); running workloads end at their next chunk.</summary>
public sealed record StopGuest : ISimulationMessage
{
    public static readonly StopGuest Instance = new();
}

/// <summary>
/// One VM finished a round: its counts, for progress. <paramref name="Accesses"/> and <paramref name="Faulted"/> are the
/// workload's (already reported by <see cref="WorkloadProgress"/>); the attack figures are what the guest saw of its probes.
/// </summary>
/// <param name="AttackViolations">#PF on attack accesses plus CR writes refused with #GP.</param>
public sealed record RoundDone(int Index, long Round, long Accesses, long Faulted, long AttacksBlocked, long AttacksSucceeded,
    long AttackAccesses, long AttackViolations) : ISimulationMessage;

/// <summary>A VM finished its rounds (or stopped): everything it counted.</summary>
public sealed record VmFinished(int Index, VmCounts Counts) : ISimulationMessage;

/// <summary>
/// Everything one simulated VM counted, handed over once, at the end: the vocabulary's counts, the attack tallies
/// indexed by <see cref="AttackKind"/> (with the rule that let the first success of a kind through), the latency
/// distributions, and why its boot protection failed, if it did.
/// </summary>
public sealed record VmCounts(
    HekiCounts Counts,
    ImmutableArray<long> Attempted,
    ImmutableArray<long> Blocked,
    ImmutableArray<long> Succeeded,
    ImmutableArray<string?> Why,
    LatencySnapshot FastPath,
    LatencySnapshot SlowPath,
    LatencySnapshot HypercallLatency,
    ImmutableArray<LatencySnapshot> LatencyParts,
    string? BootFailureReason,
    string? BootFailureResult,
    GuestKernelCounts? Kernel = null,
    FaultCounts? Faults = null);

/// <summary>Faults a guest kernel's requests suffered under the scenario's chaos section, one value per <see cref="Chaos.FaultKind"/>.</summary>
public sealed record FaultCounts(ImmutableArray<long> Values);

/// <summary>A guest kernel's counters as a message payload: one value per <see cref="KernelCounter"/>, in its order.</summary>
/// <param name="FirstBootFailure">The first non-zero return of a boot PROTECT_MEMORY call; 0 when none failed.</param>
public sealed record GuestKernelCounts(ImmutableArray<long> Values, long FirstBootFailure);

/// <summary>What a guest-kernel actor counts for its VM (and the coordinator for all of them), handed over as <see cref="VmCounts"/>.</summary>
internal sealed class VmTotals
{
    /// <summary>The vocabulary's counts: the vCPUs' own (<see cref="VcpuCounts"/>) and what the guest saw in its replies.</summary>
    public HekiCounts Counts { get; set; } = HekiCounts.Zero;

    // Made on first use (issue 11): a guest keeps its totals from its boot to the run's end, and every object a booted
    // VM keeps is copied twice by the collector during a 10,000-VM boot (docs/benchmarks.md, fourth pass).
    private long[]? _attempted, _blocked, _succeeded, _faults;
    private string?[]? _why;
    private LatencyHistogram? _fastPath, _slowPath, _hypercallLatency;
    private LatencyHistogram[]? _latencyParts;

    public long[] Attempted => _attempted ??= new long[AttackKinds.Count];
    public long[] Blocked => _blocked ??= new long[AttackKinds.Count];
    public long[] Succeeded => _succeeded ??= new long[AttackKinds.Count];
    public string?[] Why => _why ??= new string?[AttackKinds.Count];
    public LatencyHistogram FastPath => _fastPath ??= new();
    public LatencyHistogram SlowPath => _slowPath ??= new();
    public LatencyHistogram HypercallLatency => _hypercallLatency ??= new();

    /// <summary>The slow path's and the hypercall's service and queueing, in the order of <see cref="HekiVocabulary.LatencyParts"/>.</summary>
    public LatencyHistogram[] LatencyParts => _latencyParts ??= [.. HekiVocabulary.LatencyParts.Select(_ => new LatencyHistogram())];

    /// <summary>What the VM's guest kernel counted about its own protections (boot, modules); summed by the coordinator.</summary>
    /// <remarks>Made on first use: a guest sets its kernel's own counters at the end (issue 11: not an empty set kept per VM).</remarks>
    public KernelCounters Kernel
    {
        get => _kernel ??= new();
        set => _kernel = value;
    }

    private KernelCounters? _kernel;

    /// <summary>Faults injected, indexed by <see cref="Chaos.FaultKind"/> (all 0 without a chaos section).</summary>
    public long[] Faults => _faults ??= new long[Chaos.FaultKinds.All.Length];

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
        AddParts(vcpu.LatencyParts);
    }

    private void AddParts(ImmutableArray<LatencySnapshot> parts)
    {
        for (var i = 0; i < Math.Min(parts.Length, LatencyParts.Length); i++)
            LatencyParts[i].Add(parts[i]);
    }

    /// <summary>The counts as an immutable message payload.</summary>
    public VmCounts ToCounts() => new(Counts, [.. Attempted], [.. Blocked], [.. Succeeded], [.. Why], FastPath.ToSnapshot(),
        SlowPath.ToSnapshot(), HypercallLatency.ToSnapshot(), [.. LatencyParts.Select(p => p.ToSnapshot())], BootFailure?.Reason,
        BootFailure?.Result, Kernel.ToPayload(), Faults.Any(f => f != 0) ? new FaultCounts([.. Faults]) : null);

    /// <summary>Adds one VM's counts (the first success's reason per kind is kept).</summary>
    public void Add(VmCounts vm)
    {
        Counts = Counts.Add(vm.Counts);
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
        AddParts(vm.LatencyParts);
        if (vm.Kernel is { } kernel)
            Kernel.Add(kernel);
        if (vm.Faults is { } faults)
        {
            for (var k = 0; k < Faults.Length && k < faults.Values.Length; k++)
                Faults[k] += faults.Values[k];
        }
    }
}
