using HekiActors.Memory;

namespace HekiActors.Simulation.Chaos;

/// <summary>What a chaos run did and found.</summary>
/// <param name="Operations">Operations performed (each acknowledged, or given up after every resend).</param>
/// <param name="Unanswered">Operations still unanswered after every resend (<see cref="ChaosSpec.Resends"/> for a read, <see cref="ChaosSpec.ChangeResends"/> for a change).</param>
/// <param name="Faults">Faults injected, by kind.</param>
/// <param name="Checks">Invariant checks made, by invariant (1..5).</param>
/// <param name="FindingCounts">Findings by invariant and defect label.</param>
/// <param name="Findings">The first finding of each kind, with the VM's operations up to it (the unshrunk reproducer).</param>
public sealed record ChaosResult(
    HekiProfile Profile,
    ulong Seed,
    TimeSpan Elapsed,
    long Operations,
    long Unanswered,
    IReadOnlyDictionary<FaultKind, long> Faults,
    IReadOnlyDictionary<Invariant, long> Checks,
    IReadOnlyDictionary<(Invariant Invariant, Defect Defect), long> FindingCounts,
    IReadOnlyList<CapturedFinding> Findings)
{
    /// <summary>Findings that are not RFC defects: the bar reads "0 invariant violations".</summary>
    public long Violations => FindingCounts.Where(kv => kv.Key.Defect == Defect.None).Sum(kv => kv.Value);

    /// <summary>Violations of invariant 3 (an acknowledged change lost or not in force).</summary>
    public long LostAcknowledgedChanges => FindingCounts.Where(kv => kv.Key is { Invariant: Invariant.AcknowledgedChange, Defect: Defect.None })
        .Sum(kv => kv.Value);

    public long FaultsInjected => Faults.Values.Sum();

    /// <summary>Processes of this run that were killed before this one and continued by it (<see cref="ChaosSpec.AcknowledgementLog"/>).</summary>
    public int Restarts { get; init; }

    /// <summary>Reads and pinned-bit writes made right after a restart to check every acknowledged change is in force.</summary>
    public long ProbesAfterRestart { get; init; }

    /// <summary>Against a cluster: each VM node's VMs and shards at the end of the run (empty for a local run).</summary>
    public IReadOnlyList<NodeCount> NodeCounts { get; init; } = [];

    /// <summary>Against the run's own nodes: the node faults each node got, in node order (empty otherwise).</summary>
    public IReadOnlyList<NodeFaultCount> NodeFaults { get; init; } = [];

    /// <summary>Why node faults stopped before the run's end (a node that did not come back in time); null if they did not.</summary>
    public string? NodeFaultProblem { get; init; }

    /// <summary>Node faults injected, all nodes.</summary>
    public long NodeFaultsInjected => NodeFaults.Sum(n => n.Kills + n.Pauses);
}

/// <summary>One node's faults in a chaos run against the run's own nodes.</summary>
/// <param name="Address">The node's cluster address (the same across its restarts: the same port).</param>
/// <param name="Kills">SIGKILLs (<c>node_kill</c>).</param>
/// <param name="Restarts">Starts after a kill, or after it exited on its own (each up again before the next fault).</param>
/// <param name="Pauses">SIGSTOP/SIGCONT pairs (<c>node_pause</c>).</param>
/// <param name="Exits">Times it exited on its own (the cluster downed it, or it failed) and was started again.</param>
public sealed record NodeFaultCount(string Address, long Kills, long Restarts, long Pauses, long Exits);

/// <summary>A finding and the operations of its VM, from its latest create up to the one that revealed it.</summary>
public sealed record CapturedFinding(Finding Finding, IReadOnlyList<Replay.ReplayRequest> Script);
