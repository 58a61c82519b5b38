namespace HekiActors.Simulation.Chaos;

/// <summary>
/// Faults of whole cluster nodes that <c>heki chaos --cluster-nodes N</c> injects into the <c>heki node</c> processes it
/// started (docs/chaos.md, "Against a cluster"). Unlike <see cref="FaultKind"/>, which hits one operation, a node fault
/// is scheduled in time by <see cref="NodeFaultPlan"/>; one node at a time is faulty, so the majority stays up.
/// </summary>
public enum NodeFaultKind
{
    /// <summary>The node's process is killed with SIGKILL and started again on the same port after a downtime: its VMs
    /// start on the survivors from the journal (or on the node again once it is back).</summary>
    Kill,

    /// <summary>The node's process is stopped with SIGSTOP and continued with SIGCONT after a downtime shorter than the
    /// failure detector's pause: a node that stops answering (a stalled host, a short network partition).</summary>
    Pause,
}

/// <summary>Names of node fault kinds as <c>--faults</c> and the report spell them.</summary>
public static class NodeFaultKinds
{
    public static readonly NodeFaultKind[] All = Enum.GetValues<NodeFaultKind>();

    /// <summary>snake_case, as in <c>--faults node_kill,drop_reply</c> and the JSON report.</summary>
    public static string Name(this NodeFaultKind kind) => kind switch
    {
        NodeFaultKind.Kill => "node_kill",
        NodeFaultKind.Pause => "node_pause",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string text, out NodeFaultKind kind) => FaultKinds.TryParseName(text, All, Name, out kind);
}
