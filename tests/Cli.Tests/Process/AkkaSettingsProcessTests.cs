using HekiActors.TestSupport;

namespace HekiActors.Cli.Tests;

/// <summary>
/// A settings file whose akka section Akka refuses at start (<c>heki node --config</c>, and the nodes' file a client
/// reads with <c>--cluster-config</c>) is a usage error: exit 2, one line on standard error naming the file, the
/// setting and Akka's reason, nothing started and nothing on standard output. It was exit 1 after Akka.Hosting
/// printed "Unable to start AkkaHostedService" and a stack trace on standard output.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AkkaSettingsProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("akka.loglevel = BLAH", "akka.loglevel = BLAH: Unknown LogLevel: \"BLAH\"")]
    [InlineData("akka.stdout-loglevel = loud", "akka.stdout-loglevel = loud: Unknown LogLevel: \"LOUD\"")]
    [InlineData("akka.log-config-on-start = maybe", "akka.log-config-on-start = maybe: Unknown boolean format: maybe")]
    [InlineData("akka.actor.default-dispatcher.type = Bogus", "akka.actor.default-dispatcher.type = Bogus: Could not resolve dispatcher type Bogus")]
    [InlineData("akka.loggers = [\"No.Such.Logger, Nowhere\"]", "akka.loggers = [\"No.Such.Logger, Nowhere\"]: Logger specified in config cannot be found")]
    [InlineData("akka.cluster.min-nr-of-members = x", "akka.cluster.min-nr-of-members = x: The input string 'x' was not in a correct format")]
    [InlineData("akka.cluster.sharding.state-store-mode = bogus", "akka.cluster.sharding.state-store-mode = bogus: Requested value 'bogus' was not found")]
    [InlineData("akka.cluster.split-brain-resolver.down-all-when-unstable = bogus", "akka.cluster.split-brain-resolver.down-all-when-unstable = bogus: ")]
    [InlineData("akka.remote.dot-netty.tcp.maximum-frame-size = x", "akka.remote.dot-netty.tcp.maximum-frame-size = x: The input string 'x' was not in a correct format")]
    public void A_node_whose_akka_setting_Akka_refuses_is_a_usage_error_naming_the_setting(string setting, string named)
    {
        // Good settings around the bad one: the line names the one Akka refuses.
        File.WriteAllText(Path.Combine(_folder.Path, "node.conf"), $"akka.loglevel = INFO\nakka.cluster.split-brain-resolver.stable-after = 10s\n{setting}\n");

        var (status, output, error) = HekiProcess.Run(["node", "--config", "node.conf", "--port", "0"], _folder.Path);

        Assert.Equal(2, status);
        Assert.Equal("", output);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"heki node: --config node.conf: Akka refuses {named}", line);
    }

    [Fact]
    public void Two_settings_Akka_refuses_only_together_are_named_by_the_file()
    {
        File.WriteAllText(Path.Combine(_folder.Path, "node.conf"),
            "akka.coordinated-shutdown.terminate-actor-system = off\nakka.coordinated-shutdown.run-by-actor-system-terminate = on\n");

        var (status, output, error) = HekiProcess.Run(["node", "--config", "node.conf", "--port", "0"], _folder.Path);

        Assert.Equal(2, status);
        Assert.Equal("", output);
        Assert.StartsWith("heki node: --config node.conf: Akka refuses ", Assert.Single(error.TrimEnd('\n').Split('\n')));
        Assert.Contains("is not a supported configuration combination", error);
    }

    [Theory]
    [InlineData("chaos")]
    [InlineData("simulate")]
    [InlineData("replay", "script.txt")]
    public void A_client_given_the_nodes_file_with_a_setting_Akka_refuses_starts_nothing(string command, string? script = null)
    {
        File.WriteAllText(Path.Combine(_folder.Path, "nodes.conf"), "akka.loglevel = BLAH\n");
        File.WriteAllText(Path.Combine(_folder.Path, "script.txt"), "");
        // No node listens there: a client that started would wait to join it.
        string[] args = [command, "--cluster", $"akka.tcp://heki@127.0.0.1:{LoopbackPorts.Free()}", "--cluster-config", "nodes.conf", .. script is null ? [] : new[] { script }];

        var (status, output, error) = HekiProcess.Run(args, _folder.Path);

        Assert.Equal(2, status);
        Assert.Equal("", output);
        // One line: a settings file's problem is not the command line's, so no "Try 'heki ... --help'" after it.
        Assert.StartsWith($"heki {command}: --cluster-config nodes.conf: Akka refuses akka.loglevel = BLAH: Unknown LogLevel: \"BLAH\"", Assert.Single(error.TrimEnd('\n').Split('\n')));
        Assert.DoesNotContain("AkkaHostedService", error);
    }

    [Theory]
    [InlineData("node")]
    [InlineData("chaos")]
    [InlineData("simulate")]
    [InlineData("replay", "script.txt")]
    public void A_settings_file_that_does_not_parse_is_named_with_its_line_not_as_a_value_Akka_refuses(string command, string? script = null)
    {
        File.WriteAllText(Path.Combine(_folder.Path, "nodes.conf"), "akka.cluster.split-brain-resolver.stable-after = 10s\nakka { loglevel = ");
        File.WriteAllText(Path.Combine(_folder.Path, "script.txt"), "");
        string[] args = command == "node" ? ["node", "--config", "nodes.conf", "--port", "0"]
            : [command, "--cluster", $"akka.tcp://heki@127.0.0.1:{LoopbackPorts.Free()}", "--cluster-config", "nodes.conf", .. script is null ? [] : new[] { script }];
        var option = command == "node" ? "--config" : "--cluster-config";

        var (status, output, error) = HekiProcess.Run(args, _folder.Path);

        Assert.Equal(2, status);
        Assert.Equal("", output);
        Assert.Equal($"heki {command}: {option} nodes.conf is not valid HOCON: line 2: loglevel has no value", Assert.Single(error.TrimEnd('\n').Split('\n')));
    }
}
