using HekiActors.Memory;

namespace HekiActors.Simulation;

/// <summary>What one simulation run measured. Counts are deterministic for a spec and seed; timings are not.</summary>
/// <param name="VmsBooted">VMs whose kernel booted (fewer than the spec's when the run was stopped during boot or a boot failed); null when not counted.</param>
/// <param name="VmsUnfinished">VMs that had not reported their counts when a stopped run gave up waiting (their counts are missing).</param>
/// <param name="Failure">Why the run stopped by itself (its journal failed), or null.</param>
public sealed record SimulationResult(
    SimulationSpec Spec,
    TimeSpan Elapsed,
    TimeSpan BootElapsed,
    AccessCounts Accesses,
    long Hypercalls,
    long HypercallFailures,
    long SlowPathFills,
    LatencySummary FastPathNanoseconds,
    LatencySummary SlowPathNanoseconds,
    LatencySummary HypercallNanoseconds,
    long Violations,
    long ImmutableRejections,
    long WarningsEmitted,
    long WarningsSuppressed,
    IReadOnlyList<AttackTally> Attacks,
    long HostIntegrityFaults,
    int? VmsBooted = null,
    int VmsUnfinished = 0,
    string? Failure = null)
{
    /// <summary>Simulated accesses per second over the workload phase.</summary>
    public double AccessesPerSecond => Elapsed > BootElapsed && Accesses.Total > 0
        ? Accesses.Total / (Elapsed - BootElapsed).TotalSeconds
        : 0;
}

/// <summary>Workload access outcomes.</summary>
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
