using System.Net;
using System.Net.Sockets;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Replay;

namespace HekiActors.Cli.Tests;

/// <summary>A one-node cluster in this process (in-memory journal) on a free port, shared by the tests of a class.</summary>
public sealed class InProcessClusterNode : IAsyncLifetime
{
    public string Seed { get; private set; } = "";

    private HekiHost? _node;

    public async Task InitializeAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        Seed = $"akka.tcp://heki@127.0.0.1:{port}";
        _node = await HekiHost.StartAsync(new HekiHostOptions(AkkaLogLevel: "OFF", SystemName: "heki",
            Cluster: new HekiClusterOptions("127.0.0.1", port, [Seed], MaxShards: 10)));
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
            await _node.DisposeAsync();
    }
}

/// <summary>
/// <c>heki replay --cluster SEED</c>: the script runs against VMs on a cluster (here a node in this process, reached over
/// Akka.Remote on 127.0.0.1 as from another machine), and standard output is byte for byte the golden output of a local replay.
/// </summary>
public sealed class ReplayClusterTests(InProcessClusterNode cluster) : IClassFixture<InProcessClusterNode>
{
    private static readonly string Golden = Path.Combine(AppContext.BaseDirectory, "Golden");

    [Theory]
    [InlineData("doc_example", "hardened")]
    [InlineData("vm_lifecycle", "hardened")]
    [InlineData("vm_lifecycle", "heki-v2")]
    [InlineData("cr_pinning", "hardened")]
    [InlineData("multi_range", "heki-v2")]
    [InlineData("downgrade", "heki-v2")]
    [InlineData("bad_input", "hardened")]
    public async Task A_golden_script_replayed_on_a_cluster_prints_exactly_the_golden_output(string name, string profile)
    {
        var (status, stdout) = await ReplayOnCluster(name, profile);

        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Golden, $"{name}.{profile}.out")), stdout);
        var anyError = stdout.Contains("\"error\":", StringComparison.Ordinal);
        Assert.Equal(anyError ? ReplayRunner.ExitLineErrors : ReplayRunner.ExitOk, status);
    }

    [Fact]
    public async Task A_second_replay_on_the_same_cluster_starts_from_no_VMs_as_a_local_one_does()
    {
        // The cluster's journal outlives runs: without a fresh start the second run's creates would answer "exists".
        var first = await ReplayOnCluster("vm_lifecycle", "hardened");
        var second = await ReplayOnCluster("vm_lifecycle", "hardened");

        Assert.Equal(first, second);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Golden, "vm_lifecycle.hardened.out")), second.Stdout);
    }

    [Theory]
    [InlineData("--cluster|127.0.0.1:4053", "--cluster '127.0.0.1:4053' is not a node address")]
    [InlineData("--cluster-config|node.conf", "--cluster-config is the settings of the nodes of a --cluster: give --cluster SEED-ADDRESS too")]
    [InlineData("--cluster|akka.tcp://heki@127.0.0.1:4053|--cluster-config|/heki-no-such-dir/node.conf", "--cluster-config /heki-no-such-dir/node.conf:")]
    public void Bad_cluster_options_are_refused_with_exit_2_and_nothing_runs(string arguments, string message)
    {
        var parse = Program.BuildRoot().Parse(["replay", .. arguments.Split('|'), Path.Combine(Golden, "doc_example.jsonl")]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        parse.InvocationConfiguration.Output = stdout;
        parse.InvocationConfiguration.Error = stderr;

        Assert.Equal(ExitCodes.Usage, Program.Run(parse));
        Assert.Equal("", stdout.ToString());
        Assert.Contains(message, stderr.ToString());
    }

    private async Task<(int Status, string Stdout)> ReplayOnCluster(string name, string profile)
    {
        await using var script = File.OpenRead(Path.Combine(Golden, name + ".jsonl"));
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter();
        var status = await ReplayRunner.RunAsync(script, ReplayHarness.Profile(profile), stdout, stderr, cluster: new ReplayCluster(cluster.Seed));
        Assert.NotEqual(ReplayRunner.ExitClusterUnavailable, status);
        return (status, stdout.ToString());
    }
}
