using System.CommandLine;
using Akka.Configuration;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Simulate;
using HekiActors.Simulation;

namespace HekiActors.Cli.Tests;

/// <summary>
/// A client of a cluster (<c>heki simulate --cluster</c>) is a cluster member and may be its leader, which takes the
/// split-brain resolver's decisions: it must run the nodes' resolver and failure detector, or the nodes down the whole
/// cluster when one is lost (docs/cluster.md). <c>--cluster-config</c> gives it the nodes' settings file.
/// </summary>
public sealed class ClusterClientSettingsTests : IDisposable
{
    private const string Seed = "akka.tcp://heki@127.0.0.1:4053";

    private const string NodeFile = """
        heki.node { port = 4053, shards = 30, roles = [edge] }
        akka.remote.dot-netty.tcp.maximum-frame-size = 256000b
        akka.cluster.min-nr-of-members = 2
        akka.cluster.split-brain-resolver.stable-after = 5s
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 10s
        akka.loglevel = INFO
        """;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_client_takes_the_nodes_split_brain_resolver_and_failure_detector_and_nothing_else()
    {
        var shared = ClusterClient.SharedOf(ConfigurationFactory.ParseString(NodeFile));

        Assert.Equal(TimeSpan.FromSeconds(5), shared.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(10), shared.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        // Not the node's remoting, membership or logging: the client binds its own port and hosts no VMs.
        Assert.False(shared.HasPath("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.False(shared.HasPath("akka.cluster.min-nr-of-members"));
        Assert.False(shared.HasPath("heki.node"));
        Assert.False(shared.HasPath("akka.loglevel"));
    }

    [Fact]
    public void The_nodes_settings_win_over_the_clients_own_and_the_rest_of_its_own_stays()
    {
        var local = new HekiHostOptions(Config: ConfigurationFactory.ParseString("""
            akka.cluster.split-brain-resolver.stable-after = 20s
            akka.actor.serialize-messages = on
            """));

        var client = ClusterClient.Options(local, Seed, ConfigurationFactory.ParseString(NodeFile)).Config!;

        Assert.Equal(TimeSpan.FromSeconds(5), client.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.True(client.GetBoolean("akka.actor.serialize-messages"));
        Assert.Same(local.Config, ClusterClient.Options(local, Seed).Config);
    }

    [Fact]
    public void Cluster_config_reaches_the_run_request()
    {
        var file = _folder.File("node.conf", NodeFile);

        var request = Read("--cluster", Seed, "--cluster-config", file);

        Assert.Equal(TimeSpan.FromSeconds(5), request.ClusterConfig!.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Null(Read("--cluster", Seed).ClusterConfig);
    }

    [Fact]
    public void Cluster_config_without_a_cluster_is_refused()
    {
        var file = _folder.File("node.conf", NodeFile);

        var e = Assert.Throws<UsageException>(() => Read("--cluster-config", file));

        Assert.Equal("--cluster-config is the settings of the nodes of a --cluster: give --cluster SEED-ADDRESS too", e.Message);
    }

    [Fact]
    public void A_cluster_config_that_is_missing_a_folder_or_not_HOCON_is_named()
    {
        var missing = _folder.File("missing.conf");
        Assert.Equal($"--cluster-config {missing}: no such file", Assert.Throws<UsageException>(() => Read("--cluster", Seed, "--cluster-config", missing)).Message);
        Assert.Equal($"--cluster-config {_folder.Path}: is a directory, not a file",
            Assert.Throws<UsageException>(() => Read("--cluster", Seed, "--cluster-config", _folder.Path)).Message);
        var bad = _folder.File("bad.conf", "akka.cluster.split-brain-resolver.stable-after = ${undefined}");
        Assert.StartsWith($"--cluster-config {bad} is not valid HOCON: ", Assert.Throws<UsageException>(() => Read("--cluster", Seed, "--cluster-config", bad)).Message);
        Assert.Equal("--cluster-config needs a value, got ''", Assert.Throws<UsageException>(() => Read("--cluster", Seed, "--cluster-config", "")).Message);
    }

    [Fact]
    public void A_nodes_file_setting_what_heki_sets_itself_is_refused_as_heki_node_refuses_it_without_the_help_hint()
    {
        var file = _folder.File("nodes.conf", "akka.cluster.split-brain-resolver.stable-after = 5s\nakka.remote.dot-netty.tcp.port = -5\n");

        var e = Assert.Throws<UsageException>(() => Read("--cluster", Seed, "--cluster-config", file));

        Assert.Equal($"--cluster-config {file}: akka.remote.dot-netty.tcp.port is set by heki itself (the file's value would not be used): use heki node --port or heki.node.port", e.Message);
        Assert.False(e.HelpHint);
        Assert.True(Assert.Throws<UsageException>(() => Read("--cluster-config", file)).HelpHint);
    }

    [Fact]
    public void A_cluster_seed_of_another_actor_system_is_refused_as_heki_node_refuses_it()
    {
        Assert.Equal("--cluster 'akka.tcp://other@127.0.0.1:4053' names actor system 'other'; every heki node's is 'heki'",
            Assert.Throws<UsageException>(() => Read("--cluster", "akka.tcp://other@127.0.0.1:4053")).Message);
    }

    [Fact]
    public void An_empty_cluster_address_is_named_as_an_address()
    {
        Assert.Equal("--cluster needs a value, got ''",
            Assert.Throws<UsageException>(() => Read("--cluster", "")).Message);
    }

    [Fact]
    public void A_cluster_config_that_is_a_device_or_a_FIFO_is_refused_before_it_is_opened()
    {
        // A device that never ends, or a FIFO no program writes (open(2) would wait for one): a message, not a hang.
        var device = Assert.Throws<UsageException>(() => Read("--cluster", Seed, "--cluster-config", "/dev/zero"));
        Assert.Equal("--cluster-config /dev/zero: is a character device, not a settings file", device.Message);

        var fifo = Path.Combine(Directory.CreateTempSubdirectory("heki-fifo-").FullName, "nodes.conf");
        try
        {
            Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(fifo, Mono.Unix.Native.FilePermissions.S_IRWXU));
            var e = Assert.Throws<UsageException>(() => Read("--cluster", Seed, "--cluster-config", fifo));
            Assert.Equal($"--cluster-config {fifo}: is a FIFO, not a settings file", e.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(fifo)!, recursive: true);
        }
    }

    private static SimulationRunner.Request Read(params string[] args)
    {
        var options = new SimulateOptions();
        var command = new Command("simulate");
        options.AddTo(command);
        return options.Read(command.Parse(args));
    }
}
