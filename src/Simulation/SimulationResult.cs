using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Simulation.Guest;

namespace HekiActors.Simulation;

/// <summary>
/// What one simulation run measured, in the words of <see cref="HekiVocabulary"/>. Counts are deterministic for a
/// spec and seed (the workload's share varies with a duration bound); timings are not.
/// </summary>
/// <param name="Counts">Every count of the vocabulary, as the deciding actors counted it (the metrics count the same events).</param>
/// <param name="FastPathNanoseconds">Per access, weighted by each timed group's accesses.</param>
/// <param name="SlowPathNanoseconds">Per translation miss, from the vCPU's request to the fill.</param>
/// <param name="HypercallNanoseconds">Per hypercall, from its arrival at the guest's vCPU to the reply.</param>
/// <param name="BootFailures">Boot protection failures grouped by reason (empty when every kernel protected itself).</param>
/// <param name="VmsBooted">VMs whose kernel booted (fewer than the spec's when the run was stopped during boot or a boot failed); null when not counted.</param>
/// <param name="VmsUnfinished">VMs that had not reported their counts when a stopped run gave up waiting (their counts are missing).</param>
/// <param name="Failure">Why the run stopped by itself (its journal failed), or null.</param>
public sealed record SimulationResult(
    SimulationSpec Spec,
    TimeSpan Elapsed,
    TimeSpan BootElapsed,
    HekiCounts Counts,
    LatencySummary FastPathNanoseconds,
    LatencySummary SlowPathNanoseconds,
    LatencySummary HypercallNanoseconds,
    IReadOnlyList<AttackTally> Attacks,
    IReadOnlyList<BootFailureGroup> BootFailures,
    int? VmsBooted = null,
    int VmsUnfinished = 0,
    string? Failure = null)
{
    /// <summary>The guest kernel's own protections: what boot and each module load cost, what unloads could not undo.</summary>
    public GuestKernelReport? GuestKernel { get; init; }

    /// <summary>
    /// The slow path's and the hypercall's service and queueing (nanoseconds), in the order of <see cref="HekiVocabulary.LatencyParts"/>;
    /// empty summaries when not measured.
    /// </summary>
    public IReadOnlyList<LatencySummary> LatencyParts { get; init; } = [.. HekiVocabulary.LatencyParts.Select(_ => LatencySummary.Empty)];

    /// <summary>The summary of one latency part.</summary>
    public LatencySummary Part(HekiLatencyPart part)
    {
        for (var i = 0; i < HekiVocabulary.LatencyParts.Count && i < LatencyParts.Count; i++)
        {
            if (HekiVocabulary.LatencyParts[i] == part)
                return LatencyParts[i];
        }

        return LatencySummary.Empty;
    }

    /// <summary>
    /// A run against a cluster (<c>heki simulate --cluster</c>): each VM-hosting node and how many of the run's VMs and
    /// shards it held at the end, by node address; null for a run in this process.
    /// </summary>
    public IReadOnlyList<NodeCount>? Nodes { get; init; }

    /// <summary>Faults injected by the scenario's chaos section, by kind (every kind it turned on); null without one.</summary>
    public IReadOnlyDictionary<Chaos.FaultKind, long>? Faults { get; init; }

    /// <summary>VMs taken over from the journal (<c>--resume</c>) instead of booted: they count among <see cref="VmsBooted"/>.</summary>
    public long VmsResumed => GuestKernel?[KernelCounter.Resumes] ?? 0;

    /// <summary>Every access by outcome, workload and attack together.</summary>
    public AccessCounts Accesses => new(Counts.Permitted, Counts.PageFaults, Counts.Mmio);

    public long Hypercalls => Counts.Hypercalls;
    public long HypercallFailures => Counts.HypercallsFailed;
    public long SlowPathFills => Counts.TranslationFills;
    public long Violations => Counts.Violations;
    public long ImmutableRejections => Counts.ImmutableRejections;
    public long WarningsEmitted => Counts.WarningsEmitted;
    public long WarningsSuppressed => Counts.WarningsSuppressed;
    public long HostIntegrityFaults => Counts.HostIntegrityFaults;

    /// <summary>Simulated accesses (workload and attack) per second over the workload phase.</summary>
    public double AccessesPerSecond => Elapsed > BootElapsed && Counts.Accesses > 0
        ? Counts.Accesses / (Elapsed - BootElapsed).TotalSeconds
        : 0;
}

/// <summary>Access outcomes.</summary>
public sealed record AccessCounts(long Permitted, long Faulted, long Mmio)
{
    public static readonly AccessCounts Zero = new(0, 0, 0);

    public long Total => Permitted + Faulted + Mmio;

    public AccessCounts Add(AccessCounts other) => new(Permitted + other.Permitted, Faulted + other.Faulted, Mmio + other.Mmio);
}

/// <summary>Percentiles of a latency distribution (nanoseconds); Count 0 when nothing was sampled.</summary>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double Max)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0);
}

/// <summary>How an attack kind fared under one profile: blocked by Heki, or succeeded (a defect let it through).</summary>
/// <param name="Why">For successes, which rule let it through (e.g. "heki-v2 drops pure downgrades").</param>
public sealed record AttackTally(AttackKind Kind, HekiProfile Profile, long Attempted, long Blocked, long Succeeded, string? Why);

/// <summary>VMs whose guest kernel could not protect itself at boot, for one reason.</summary>
/// <param name="Reason">What failed and why, e.g. "PROTECT_MEMORY returned -E2BIG: the boot list needs 1,367 list pages (hardened allows 1,024)".</param>
/// <param name="Result">The failing hypercall's errno name (the metric's <c>heki.reason</c>).</param>
/// <param name="Vms">How many VMs failed this way.</param>
/// <param name="FirstVm">The lowest-numbered of them (<c>sim-00000</c> before <c>sim-00001</c>), to look at.</param>
public sealed record BootFailureGroup(string Reason, string Result, long Vms, string FirstVm);

/// <summary>One cluster node's share of a run: the VMs (shard entities) and shards it held.</summary>
/// <param name="Address">The node's address, <c>akka.tcp://heki@HOST:PORT</c>.</param>
public sealed record NodeCount(string Address, int Vms, int Shards);
