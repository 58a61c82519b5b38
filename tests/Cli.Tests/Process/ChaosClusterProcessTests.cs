using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using HekiActors.TestSupport;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 13, done when: <c>heki chaos</c> against a 3-node cluster with node kills and restarts reports 0 invariant
/// violations under hardened. <c>heki chaos --cluster-nodes 3</c> starts three <c>heki node</c> processes on 127.0.0.1 over
/// a PostgreSQL journal (a server of the test's own), drives their VMs with every fault a client can inject, kills nodes
/// with SIGKILL and pauses them with SIGSTOP one at a time, restarts them on their ports, and checks every acknowledged
/// result with its oracle. No node outlives the run, however it ends.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class ChaosClusterProcessTests : IDisposable
{
    private static readonly TimeSpan RunBound = TimeSpan.FromMinutes(4);

    /// <summary>How long nodes may take to leave once their parent is gone (SIGTERM or the end of their input).</summary>
    private static readonly TimeSpan NodesGoneBound = TimeSpan.FromSeconds(60);

    private readonly TempFolder _folder = new();
    private readonly List<int> _nodePids = [];

    public void Dispose()
    {
        // A failed test must not leave nodes running on a shared machine.
        foreach (var pid in _nodePids.Where(pid => !Gone(pid)))
            _ = kill(pid, 9);
        _folder.Dispose();
    }

    [Fact]
    public void Chaos_against_three_nodes_with_node_kills_and_restarts_finds_no_violation_and_loses_no_acknowledged_change()
    {
        using var postgres = PostgresServer.Start();
        var journal = postgres.CreateDatabase("chaos");

        // Seed 1 plans a kill first (the node-fault plan is a function of the seed): at least one kill and restart.
        var (status, output, error) = HekiProcess.Run(
            ["chaos", "--cluster-nodes", "3", "--journal-connection", journal, "--profile", "hardened", "--seed", "1", "--duration", "40s",
                "--node-fault-interval", "2s", "--vms", "8", "--findings", "f", "--report", "r.json"],
            _folder.Path, timeout: RunBound);
        _nodePids.AddRange(NodePids(error));

        Assert.True(status == 0, $"exit {status}\n{output}\n{error}");
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        var run = Assert.Single(report.RootElement.EnumerateArray().ToList());
        Assert.Equal("hardened", run.GetProperty("profile").GetString());
        Assert.Equal(0, run.GetProperty("invariant_violations").GetInt64());
        Assert.Equal(0, run.GetProperty("lost_acknowledged_changes").GetInt64());
        Assert.Equal(0, run.GetProperty("unanswered").GetInt64());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("node_fault_problem").ValueKind);
        Assert.True(run.GetProperty("operations").GetInt64() > 0);
        Assert.True(run.GetProperty("faults_injected").GetInt64() > 0);
        var nodes = run.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(3, nodes.Count);
        var kills = nodes.Sum(n => n.GetProperty("kills").GetInt64());
        Assert.True(kills >= 1, $"no node was killed\n{error}");
        // Every killed node was started again (on its port: the same address) before the run ended.
        Assert.Equal(kills, nodes.Sum(n => n.GetProperty("restarts").GetInt64()));
        Assert.Equal(nodes.Sum(n => n.GetProperty("kills").GetInt64() + n.GetProperty("pauses").GetInt64()),
            run.GetProperty("node_faults_injected").GetInt64());
        Assert.Equal(8, nodes.Sum(n => n.GetProperty("vms").GetInt32()));
        Assert.Contains("killed with SIGKILL", error);
        Assert.Contains("up again at", error);
        Assert.Contains("0 invariant violations, 0 lost acknowledged changes", output);
        AssertNodesGone(TimeSpan.Zero);
    }

    [Fact]
    public void SIGTERM_stops_the_run_with_its_report_and_every_node_it_started_exit_143()
    {
        using var postgres = PostgresServer.Start();
        using var chaos = StartLongRun(postgres);
        chaos.WaitForOutput("heki chaos: hardened ");
        // The chaos run restarted with heki's GC budget; its nodes keep the runtime's, as every heki node does.
        Assert.All(_nodePids, pid => Assert.DoesNotContain("GCgen0size=", File.ReadAllText($"/proc/{pid}/environ"), StringComparison.Ordinal));

        chaos.Signal(PosixSignal.SIGTERM);

        var status = chaos.WaitForExit(RunBound);
        Assert.True(status == 143, $"exit {status}\n{chaos.Stderr}");
        Assert.True(File.Exists(_folder.File("r.json")), "no report after SIGTERM");
        Assert.Equal(3, _nodePids.Count);
        AssertNodesGone(TimeSpan.Zero);
    }

    [Fact]
    public void Nodes_leave_on_their_own_when_the_chaos_process_that_started_them_is_killed_with_SIGKILL()
    {
        using var postgres = PostgresServer.Start();
        using var chaos = StartLongRun(postgres);

        chaos.KillWithSigkill();

        // No handler ran in the parent: the nodes see their standard input end and leave.
        Assert.Equal(3, _nodePids.Count);
        AssertNodesGone(NodesGoneBound);
    }

    /// <summary>A 5-minute run on 3 nodes of its own (no node fault for an hour), once its nodes are up.</summary>
    private HekiProcess StartLongRun(PostgresServer postgres)
    {
        var chaos = HekiProcess.Start(_folder.Path, "chaos", "--cluster-nodes", "3", "--journal-connection", postgres.CreateDatabase("chaos"),
            "--duration", "5m", "--node-fault-interval", "1h", "--vms", "4", "--findings", "f", "--report", "r.json");
        chaos.WaitForOutput("heki chaos: node 3 up at");
        _nodePids.AddRange(NodePids(chaos.Stderr));
        return chaos;
    }

    /// <summary>Every node process the run reported, started or restarted, has ended (within <paramref name="bound"/>).</summary>
    private void AssertNodesGone(TimeSpan bound)
    {
        Assert.NotEmpty(_nodePids);
        var deadline = DateTime.UtcNow + bound;
        while (_nodePids.Any(pid => !Gone(pid)) && DateTime.UtcNow < deadline)
            Thread.Sleep(200); // polling /proc: there is nothing to wait on for a process that is not our child
        Assert.True(_nodePids.All(Gone), $"node processes still running: {string.Join(", ", _nodePids.Where(pid => !Gone(pid)))}");
    }

    /// <summary>The node processes' ids, as the run reported them ("... (pid N)").</summary>
    private static IEnumerable<int> NodePids(string stderr) =>
        PidPattern().Matches(stderr).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct();

    /// <summary>Not running: no such process, or a zombie waiting to be reaped.</summary>
    private static bool Gone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z') || !stat.Contains("(dotnet)", StringComparison.Ordinal) && !stat.Contains("(heki)", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return true;
        }
    }

    [GeneratedRegex(@"node \d+ (?:up at|up again at) \S+ \(pid (\d+)\)")]
    private static partial Regex PidPattern();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
