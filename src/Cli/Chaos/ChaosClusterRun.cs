using System.CommandLine;
using Akka.Configuration;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Input;
using HekiActors.Cli.Node;
using HekiActors.Cli.Simulate;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Chaos;

/// <summary>The options of <c>heki chaos</c> against a cluster (docs/chaos.md, "Against a cluster").</summary>
internal sealed record ClusterOptions(
    Option<string?> Seed, Option<string?> NodesConfig, Option<int> Nodes, Option<string?> JournalConnection, Option<string> NodeFaultInterval);

/// <summary>
/// A chaos run against a cluster, checked: <c>--cluster SEED</c> drives a running cluster; <c>--cluster-nodes N</c> starts
/// N nodes of its own on 127.0.0.1 and adds the node faults (<see cref="NodeFaultKind"/>).
/// </summary>
internal sealed class ClusterRun
{
    /// <summary>At most this many nodes of its own: each is a process on this machine.</summary>
    public const int MaxNodes = 9;

    private ClusterRun(string? seed, Config? nodesConfig, int nodes, string? connection, NodeFaultKind[] nodeKinds, TimeSpan interval)
    {
        Seed = seed;
        NodesConfig = nodesConfig;
        Nodes = nodes;
        Connection = connection;
        NodeKinds = nodeKinds;
        Interval = interval;
    }

    public string? Seed { get; }

    /// <summary>The settings of a running cluster's nodes (<c>--cluster-config</c>), or null.</summary>
    public Config? NodesConfig { get; }

    public int Nodes { get; }

    public string? Connection { get; }

    public NodeFaultKind[] NodeKinds { get; }

    public TimeSpan Interval { get; }

    /// <summary>
    /// Checks the cluster options against each other and the fault kinds; null (and no problem) for a run in this process.
    /// Against a cluster, <c>all</c> (or a scenario's <c>faults: all</c>) means every kind a client can inject; naming one it
    /// cannot is refused. Node kinds need nodes of the run's own (at least 3).
    /// </summary>
    public static ClusterRun? Resolve(ParseResult parse, ClusterOptions options, SimulationChaos? scenarioChaos, ref FaultKind[] kinds,
        ref NodeFaultKind[] nodeKinds, bool allKinds, bool localFiles, out string? problem)
    {
        var seed = parse.GetValue(options.Seed);
        var nodes = parse.GetValue(options.Nodes);
        var connection = parse.GetValue(options.JournalConnection);
        problem = null;
        if (nodes is < 0 or > MaxNodes)
        {
            problem = $"--cluster-nodes must be within 1..{MaxNodes} (each node is a process on this machine), got {nodes}";
            return null;
        }

        if (connection is not null && nodes == 0)
        {
            problem = seed is null
                ? "--journal-connection is the shared journal of the nodes --cluster-nodes N starts: add --cluster-nodes N (a run in this process journals with --sqlite-path)"
                : "--journal-connection is the journal of the nodes --cluster-nodes N starts; a running cluster (--cluster) has its own";
            return null;
        }

        Config? nodesConfig = null;
        if (parse.GetValue(options.NodesConfig) is { } configPath)
        {
            if (seed is null)
            {
                problem = nodes > 0
                    ? "--cluster-config is the settings of a running cluster's nodes (--cluster); the nodes of --cluster-nodes get heki chaos's own"
                    : ClusterClientOptions.ConfigWithoutCluster;
                return null;
            }

            if ((nodesConfig = HoconFile.TryRead(configPath, "--cluster-config", out problem)) is null)
                return null;
        }

        if (seed is null && nodes == 0)
        {
            if (nodeKinds.Length > 0 && !allKinds)
                problem = $"{nodeKinds[0].Name()} needs --cluster-nodes N: heki chaos kills, pauses and restarts only nodes it started itself";
            nodeKinds = [];
            return null;
        }

        if (seed is not null && nodes > 0)
        {
            problem = "--cluster drives a running cluster and --cluster-nodes starts one of its own: give one of them";
            return null;
        }

        if (seed is not null && NodeSettings.AddressProblem("--cluster", seed) is { } notAnAddress)
        {
            problem = notAnAddress;
            return null;
        }

        if (nodes > 0 && string.IsNullOrWhiteSpace(connection))
        {
            problem = "--cluster-nodes needs --journal-connection CONNECTION: the nodes' shared PostgreSQL journal, from which a killed node's VMs recover";
            return null;
        }

        if (nodes > 0 && PostgresJournal.ConnectionStringProblem(connection!) is { } malformed)
        {
            problem = $"--journal-connection: {malformed}";
            return null;
        }

        if (localFiles)
        {
            problem = "a run against a cluster keeps no journal or log of its own: drop --sqlite-path, --acknowledgements and --kill-process";
            return null;
        }

        var explicitKinds = scenarioChaos is null ? !allKinds : !scenarioChaos.AllKinds;
        if (explicitKinds && kinds.FirstOrDefault(k => !k.ReachesCluster()) is var local && !local.ReachesCluster())
        {
            problem = $"{(scenarioChaos is null ? "--faults" : "the scenario's chaos section")}: {local.Name()} cannot be injected into a cluster "
                + "from its client (the warning supervisor and the clock its limiters read are on each node; the chaos journal is one process's); "
                + "the kinds against a cluster: " + string.Join(", ", FaultKinds.All.Where(k => k.ReachesCluster()).Select(k => k.Name()))
                + ", and with --cluster-nodes " + string.Join(", ", NodeFaultKinds.All.Select(k => k.Name()));
            return null;
        }

        kinds = [.. kinds.Where(k => k.ReachesCluster())];
        if (nodeKinds.Length > 0 && nodes == 0)
        {
            if (!allKinds)
            {
                problem = $"{nodeKinds[0].Name()} needs --cluster-nodes N: heki chaos kills, pauses and restarts only nodes it started itself, not a running cluster's";
                return null;
            }

            nodeKinds = [];
        }

        if (nodeKinds.Length > 0 && nodes < 3)
        {
            if (!allKinds)
            {
                problem = $"{nodeKinds[0].Name()} needs at least 3 nodes (one node down must leave a majority up): --cluster-nodes 3";
                return null;
            }

            nodeKinds = [];
        }

        if (!DurationText.TryParse(parse.GetValue(options.NodeFaultInterval), out var interval) || interval < TimeSpan.FromSeconds(1))
        {
            problem = $"--node-fault-interval must be a duration of at least 1s (e.g. 10s, 1m), got '{parse.GetValue(options.NodeFaultInterval)}'";
            return null;
        }

        return new ClusterRun(seed, nodesConfig, nodes, connection, nodeKinds, interval);
    }

    /// <summary>Starts the run's own nodes (if any, bounded) and describes the cluster to the runner.</summary>
    /// <exception cref="TimeoutException">A node did not come up; none is left running.</exception>
    public (ChaosClusterNodes? Nodes, ChaosCluster Cluster) Start(TextWriter stderr, ulong seed, CancellationToken cancellationToken)
    {
        void Narrate(string line)
        {
            lock (stderr)
                stderr.WriteLine("heki chaos: " + line);
        }

        if (Seed is { } running)
            return (null, new ChaosCluster([running], NodesConfig: NodesConfig, Narrate: Narrate));
        stderr.WriteLine($"heki chaos: starting {Nodes} heki node processes on 127.0.0.1");
        var nodes = ChaosClusterNodes.StartAsync(Nodes, Connection!, stderr, cancellationToken).GetAwaiter().GetResult();
        var plan = NodeKinds.Length == 0 ? null : new NodeFaultPlan(seed, Nodes, NodeKinds, Interval);
        return (nodes, new ChaosCluster(nodes.Seeds, nodes, plan, Akka.Configuration.ConfigurationFactory.ParseString(ChaosClusterNodes.AkkaSettings), Narrate));
    }
}
