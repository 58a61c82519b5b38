using Akka.Cluster;
using HekiActors.Actors.Hosting;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// Injects a <see cref="NodeFaultPlan"/>'s faults into the run's own nodes, one at a time: wait, fault, downtime, restart
/// or continue, then wait until every node is an up, reachable member again before the next fault (so a majority is
/// always up). A node that exited on its own meanwhile is started again and counted. Bounded: a node that is not back
/// within <see cref="WholeAgainBound"/> stops the node faults (the run goes on and reports why).
/// </summary>
internal sealed class NodeFaultInjector(IClusterNodes nodes, NodeFaultPlan plan, HekiHost client, Action<string>? narrate)
{
    /// <summary>How long the cluster may take to have every node up and reachable again after a fault.</summary>
    public static readonly TimeSpan WholeAgainBound = TimeSpan.FromSeconds(120);

    private readonly long[] _kills = new long[nodes.Count];
    private readonly long[] _restarts = new long[nodes.Count];
    private readonly long[] _pauses = new long[nodes.Count];
    private readonly long[] _exits = new long[nodes.Count];
    private long _injected;

    /// <summary>Node faults injected so far.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    /// <summary>Why the faults stopped early, or null.</summary>
    public string? Problem { get; private set; }

    public IReadOnlyList<NodeFaultCount> Counts() =>
        [.. Enumerable.Range(0, nodes.Count).Select(i => new NodeFaultCount(nodes.Address(i), _kills[i], _restarts[i], _pauses[i], _exits[i]))];

    /// <param name="stop">The run's end: no new fault after it (a killed node is still started again, a paused one continued).</param>
    /// <param name="abort">A stop signal: nothing more, not even a restart (the caller stops every node).</param>
    public async Task RunAsync(CancellationToken stop, CancellationToken abort)
    {
        try
        {
            for (var number = 0; !stop.IsCancellationRequested; number++)
            {
                var fault = plan.Fault(number);
                await Task.Delay(fault.Wait, stop).ConfigureAwait(false);
                await InjectAsync(fault, abort).ConfigureAwait(false);
                if (!await WholeAgainAsync(stop).ConfigureAwait(false))
                    return;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested || abort.IsCancellationRequested)
        {
            // The run ended (a killed node was started again, a paused one continued), or a signal stops everything.
        }
        catch (TimeoutException e)
        {
            Problem = e.Message;
            narrate?.Invoke($"node faults stopped: {e.Message}");
        }
    }

    private async Task InjectAsync(NodeFault fault, CancellationToken abort)
    {
        var node = fault.Node;
        Interlocked.Increment(ref _injected);
        if (fault.Kind == NodeFaultKind.Pause)
        {
            nodes.Pause(node);
            _pauses[node]++;
            narrate?.Invoke($"node {node + 1} ({nodes.Address(node)}, {nodes.Describe(node)}) paused with SIGSTOP for {fault.Downtime.TotalSeconds:0.0} s");
            try
            {
                // Not cut short by the run's end: a stopped process must always be continued.
                await Task.Delay(fault.Downtime, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                nodes.Resume(node);
            }

            return;
        }

        nodes.Kill(node);
        _kills[node]++;
        narrate?.Invoke($"node {node + 1} ({nodes.Address(node)}, {nodes.Describe(node)}) killed with SIGKILL; restarting it in {fault.Downtime.TotalSeconds:0.0} s");
        await Task.Delay(fault.Downtime, abort).ConfigureAwait(false);
        await nodes.RestartAsync(node, abort).ConfigureAwait(false);
        _restarts[node]++;
        narrate?.Invoke($"node {node + 1} up again at {nodes.Address(node)} ({nodes.Describe(node)})");
    }

    /// <summary>Every node an up, reachable VM member in the client's view (restarting one that exited on its own).</summary>
    private async Task<bool> WholeAgainAsync(CancellationToken stop)
    {
        var cluster = Cluster.Get(client.System);
        var deadline = DateTime.UtcNow + WholeAgainBound;
        while (true)
        {
            for (var node = 0; node < nodes.Count; node++)
            {
                if (!nodes.Exited(node, out var lastWords))
                    continue;
                _exits[node]++;
                narrate?.Invoke($"node {node + 1} ({nodes.Address(node)}) exited on its own ({lastWords}); starting it again");
                await nodes.RestartAsync(node, stop).ConfigureAwait(false);
                _restarts[node]++;
            }

            var state = cluster.State;
            var up = state.Members.Count(m => m.Status == MemberStatus.Up && m.HasRole(HekiHost.VmTypeName));
            if (up == nodes.Count && state.Unreachable.Count == 0)
                return true;
            if (DateTime.UtcNow > deadline)
            {
                Problem = $"the cluster was not whole again within {WholeAgainBound.TotalSeconds:0} s of the last node fault "
                    + $"({up} of {nodes.Count} nodes up, {state.Unreachable.Count} unreachable)";
                narrate?.Invoke($"node faults stopped: {Problem}");
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), stop).ConfigureAwait(false);
        }
    }
}
