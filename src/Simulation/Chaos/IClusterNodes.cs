namespace HekiActors.Simulation.Chaos;

/// <summary>
/// The <c>heki node</c> processes a chaos run may fault (<c>heki chaos --cluster-nodes N</c> starts them; the CLI
/// implements this with processes). Every method returns within a bounded time.
/// </summary>
public interface IClusterNodes
{
    /// <summary>How many nodes (each keeps its index and its address for the whole run).</summary>
    int Count { get; }

    /// <summary>Node <paramref name="node"/>'s cluster address, <c>akka.tcp://heki@HOST:PORT</c>.</summary>
    string Address(int node);

    /// <summary>What identifies the node's current process to a user (its process id).</summary>
    string Describe(int node);

    /// <summary>SIGKILL: no goodbye, no hand-off, no journal flush.</summary>
    void Kill(int node);

    /// <summary>Starts a killed (or exited) node again on its port; returns once it is up again or throws.</summary>
    /// <exception cref="TimeoutException">Not up within the node's start bound.</exception>
    Task RestartAsync(int node, CancellationToken cancellationToken);

    /// <summary>SIGSTOP: the node stops answering, its connections stay open.</summary>
    void Pause(int node);

    /// <summary>SIGCONT.</summary>
    void Resume(int node);

    /// <summary>Whether the node's process exited on its own (the cluster downed it, or it failed), with its last words.</summary>
    bool Exited(int node, out string lastWords);
}
