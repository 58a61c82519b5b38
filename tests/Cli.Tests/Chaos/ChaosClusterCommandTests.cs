using System.Text.Json;
using Akka.Configuration;
using HekiActors.Cli.Chaos;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Tests.Chaos;

/// <summary><c>heki chaos --cluster SEED</c> and <c>--cluster-nodes N</c>: the options, and a run against a cluster.</summary>
public sealed class ChaosClusterCommandTests(InProcessClusterNode cluster) : IDisposable, IClassFixture<InProcessClusterNode>
{
    private const string Seed = "akka.tcp://heki@127.0.0.1:4053";
    private const string Journal = "Host=127.0.0.1;Port=5432;Database=heki;Username=heki";
    private readonly string _dir = Directory.CreateTempSubdirectory("heki-chaos-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Status, string Stdout, string Stderr) Run(params string[] args) => ChaosCommandTests.Run(args);

    [Theory]
    [InlineData("--cluster|heki@nowhere", "--cluster 'heki@nowhere' is not a node address (akka.tcp://heki@HOST:PORT, as heki node prints it)")]
    [InlineData("--cluster|akka.tcp://other@127.0.0.1:4053", "--cluster 'akka.tcp://other@127.0.0.1:4053' names actor system 'other'; every heki node's is 'heki'")]
    [InlineData("--cluster|akka.tcp://heki@127.0.0.1:99999", "--cluster 'akka.tcp://heki@127.0.0.1:99999' is not a node address (akka.tcp://heki@HOST:PORT, as heki node prints it)")]
    [InlineData("--cluster-nodes|3", "--cluster-nodes needs --journal-connection CONNECTION")]
    [InlineData("--cluster-nodes|3|--journal-connection|Host=db;Nonsense=1", "--journal-connection: not a PostgreSQL connection string: ")]
    [InlineData("--cluster-nodes|3|--journal-connection|Database=heki", "--journal-connection: not a PostgreSQL connection string: it names no Host")]
    [InlineData("--cluster-nodes|12|--journal-connection|" + Journal, "--cluster-nodes must be within 1..9")]
    [InlineData("--cluster-nodes|-1|--journal-connection|" + Journal, "--cluster-nodes must be within 1..9")]
    [InlineData("--journal-connection|" + Journal, "--journal-connection is the shared journal of the nodes --cluster-nodes N starts: add --cluster-nodes N")]
    [InlineData("--cluster|" + Seed + "|--journal-connection|" + Journal, "--journal-connection is the journal of the nodes --cluster-nodes N starts; a running cluster (--cluster) has its own")]
    [InlineData("--cluster|" + Seed + "|--cluster-nodes|3|--journal-connection|" + Journal, "give one of them")]
    [InlineData("--faults|node_kill", "node_kill needs --cluster-nodes N")]
    [InlineData("--cluster|" + Seed + "|--faults|drop_reply,node_pause", "node_pause needs --cluster-nodes N")]
    [InlineData("--cluster-nodes|2|--journal-connection|" + Journal + "|--faults|node_kill", "node_kill needs at least 3 nodes")]
    [InlineData("--cluster|" + Seed + "|--faults|crash_warnings", "crash_warnings cannot be injected into a cluster from its client")]
    [InlineData("--cluster|" + Seed + "|--faults|drop_reply,journal_stall", "journal_stall cannot be injected into a cluster")]
    [InlineData("--cluster|" + Seed + "|--faults|clock_skew", "clock_skew cannot be injected into a cluster")]
    [InlineData("--cluster|" + Seed + "|--sqlite-path|x.db", "a run against a cluster keeps no journal or log of its own")]
    [InlineData("--cluster|" + Seed + "|--kill-process|1|--sqlite-path|k.db", "a run against a cluster keeps no journal or log of its own")]
    [InlineData("--cluster-nodes|3|--journal-connection|" + Journal + "|--node-fault-interval|soon", "--node-fault-interval must be a duration of at least 1s")]
    [InlineData("--cluster-nodes|3|--journal-connection|" + Journal + "|--node-fault-interval|100ms", "--node-fault-interval must be a duration of at least 1s")]
    [InlineData("--faults|node_meteor", "unknown fault kind 'node_meteor' (the kinds: drop_request")]
    [InlineData("--cluster-config|node.conf", "--cluster-config is the settings of the nodes of a --cluster: give --cluster SEED-ADDRESS too")]
    [InlineData("--cluster-nodes|3|--journal-connection|" + Journal + "|--cluster-config|node.conf", "the nodes of --cluster-nodes get heki chaos's own")]
    [InlineData("--cluster|" + Seed + "|--cluster-config|/heki-no-such-dir/node.conf", "--cluster-config /heki-no-such-dir/node.conf:")]
    public void Bad_cluster_options_are_named_exit_2_and_nothing_starts(string arguments, string message)
    {
        var (status, stdout, stderr) = Run(["chaos", .. arguments.Split('|')]);
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr);
        // A settings file's problem is one line: no option fixes it, so no --help hint after it.
        if (message.StartsWith("--cluster-config /", StringComparison.Ordinal))
            Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        else
            Assert.Contains("Try 'heki chaos --help'.", stderr);
    }

    [Fact]
    public void A_paused_node_stays_paused_for_less_than_the_failure_detector_waits_so_it_is_never_downed_for_it()
    {
        var pause = ConfigurationFactory.ParseString(ChaosClusterNodes.AkkaSettings)
            .GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause");
        Assert.True(NodeFaultPlan.MaxPause * 2 <= pause, $"a pause of up to {NodeFaultPlan.MaxPause} against a heartbeat pause of {pause}");
    }

    [Fact]
    public void A_run_against_a_running_cluster_drives_its_VMs_there_with_every_fault_a_client_can_inject_and_finds_no_violation()
    {
        var seed = cluster.Seed;
        var report = Path.Combine(_dir, "r.json");

        var (status, stdout, stderr) = Run("chaos", "--cluster", seed, "--profile", "hardened", "--operations", "150", "--vms", "3",
            "--rate", "0.05", "--findings", Path.Combine(_dir, "f"), "--report", report);

        Assert.True(status == 0, $"exit {status}\n{stdout}\n{stderr}");
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var run = Assert.Single(json.RootElement.EnumerateArray().ToList());
        Assert.Equal(450, run.GetProperty("operations").GetInt64());
        Assert.Equal(0, run.GetProperty("unanswered").GetInt64());
        Assert.Equal(0, run.GetProperty("invariant_violations").GetInt64());
        Assert.Equal(0, run.GetProperty("lost_acknowledged_changes").GetInt64());
        var faults = run.GetProperty("faults");
        // "all" against a cluster: the kinds that travel as messages; none of the node-local ones.
        foreach (var kind in new[] { "drop_request", "drop_reply", "duplicate", "delay", "crash_vm", "crash_vcpu" })
            Assert.True(faults.GetProperty(kind).GetInt64() > 0, $"no {kind} injected");
        foreach (var kind in new[] { "crash_warnings", "journal_write_failure", "journal_stall", "journal_recovery_failure", "clock_skew" })
            Assert.Equal(0, faults.GetProperty(kind).GetInt64());
        var hosting = Assert.Single(run.GetProperty("nodes").EnumerateArray().ToList());
        Assert.Equal(seed, hosting.GetProperty("address").GetString());
        Assert.Equal(3, hosting.GetProperty("vms").GetInt32());
        Assert.Equal(0, run.GetProperty("node_faults_injected").GetInt64());
        Assert.Contains("VMs per node", stdout);
    }

    [Fact]
    public void A_second_run_against_the_same_cluster_starts_from_fresh_VMs_not_the_ones_the_first_left()
    {
        var seed = cluster.Seed;
        // The same seed twice, long enough for each VM's destroy-and-create-again operations: the cluster's journal keeps
        // the first run's request records, so the second run's ids must be its own (not only the seed's).
        string[] arguments = ["chaos", "--cluster", seed, "--operations", "3000", "--vms", "2", "--faults", "none", "--findings", Path.Combine(_dir, "f")];

        var first = Run(arguments);
        var second = Run(arguments);

        // Without the destroy first, the second run's creates would be refused ("exists") and its oracle would see lost changes.
        Assert.True(first.Status == 0, first.Stdout + first.Stderr);
        Assert.True(second.Status == 0, second.Stdout + second.Stderr);
        Assert.Contains("0 invariant violations, 0 lost acknowledged changes", second.Stdout);
    }
}
