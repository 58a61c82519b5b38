using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation.Chaos;

/// <summary>One node fault: which kind, which node (0-based), how long after the cluster was whole again, for how long.</summary>
/// <param name="Wait">From the moment every node is up again (or the run's start) to the fault.</param>
/// <param name="Downtime">From the fault to the node's restart (<see cref="NodeFaultKind.Kill"/>) or SIGCONT (<see cref="NodeFaultKind.Pause"/>).</param>
public sealed record NodeFault(int Number, NodeFaultKind Kind, int Node, TimeSpan Wait, TimeSpan Downtime);

/// <summary>
/// Which node faults happen, in order: a pure function of the seed and the fault's number, so the same seed kills and
/// pauses the same nodes in the same order for the same downtimes (when they happen depends on how fast the cluster
/// recovers, which is timing). Faults never overlap: the next one waits until every node is up again, so with 3 nodes
/// at least 2 are always up (the split-brain resolver's majority).
/// </summary>
public sealed class NodeFaultPlan
{
    /// <summary>The longest SIGSTOP: well under the failure detector's pause (10 s in a chaos cluster), so a paused
    /// node stalls without being downed.</summary>
    public static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(4);

    /// <summary>The longest a killed node stays dead before it is started again.</summary>
    public static readonly TimeSpan MaxKillDowntime = TimeSpan.FromSeconds(5);

    private readonly ulong _seed;
    private readonly NodeFaultKind[] _kinds;

    /// <param name="seed">The run's seed.</param>
    /// <param name="nodes">How many nodes there are (≥ 3: one faulty node leaves a majority).</param>
    /// <param name="kinds">The kinds to inject (at least one).</param>
    /// <param name="interval">The mean wait between the cluster being whole again and the next fault (&gt; 0).</param>
    public NodeFaultPlan(ulong seed, int nodes, IReadOnlyCollection<NodeFaultKind> kinds, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        if (nodes < 3)
            throw new ArgumentOutOfRangeException(nameof(nodes), nodes, "node faults need at least 3 nodes (one down leaves a majority)");
        if (kinds.Count == 0)
            throw new ArgumentException("no node fault kind", nameof(kinds));
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "the interval must be positive");
        _seed = seed;
        Nodes = nodes;
        _kinds = [.. kinds.Distinct().Order()];
        Interval = interval;
    }

    public int Nodes { get; }

    public TimeSpan Interval { get; }

    public IReadOnlyList<NodeFaultKind> Kinds => _kinds;

    /// <summary>Fault number <paramref name="number"/> (0, 1, ...).</summary>
    public NodeFault Fault(int number)
    {
        ulong Draw(ulong salt) => GuestRandom.Derive(_seed, 0x90DEFA17UL, (ulong)number, salt);
        var kind = _kinds[(int)(Draw(1) % (ulong)_kinds.Length)];
        var node = (int)(Draw(2) % (ulong)Nodes);
        // Half to one and a half of the interval, so faults do not fall into a rhythm with anything else.
        var wait = TimeSpan.FromMilliseconds(Interval.TotalMilliseconds * (0.5 + Fraction(Draw(3))));
        var longest = kind == NodeFaultKind.Kill ? MaxKillDowntime : MaxPause;
        var downtime = TimeSpan.FromMilliseconds(1000 + Fraction(Draw(4)) * (longest.TotalMilliseconds - 1000));
        return new NodeFault(number, kind, node, wait, downtime);
    }

    private static double Fraction(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));
}
