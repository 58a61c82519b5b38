using System.Net;
using System.Net.Sockets;
using HekiActors.TestSupport;

namespace HekiActors.Cli.Tests;

/// <summary>
/// <c>heki node</c> that cannot start says why in one line on standard error and exits 1, with no stack trace on either
/// stream (Akka and Akka.Hosting each printed a nested trace of 40–60 lines for a port in use).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class NodeStartFailureProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_port_in_use_is_named_in_one_line_and_nothing_else_is_printed()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (status, output, error) = HekiProcess.Run(["node", "--port", port.ToString()], _folder.Path);

        Assert.Equal(1, status);
        Assert.Equal($"heki node: could not start on 127.0.0.1:{port}: Address already in use", error.Trim());
        Assert.Equal("", output);
    }

    [Fact]
    public void A_PostgreSQL_journal_that_does_not_answer_fails_the_start_in_one_line()
    {
        var nobody = LoopbackPorts.Free();
        var connection = $"Host=127.0.0.1;Port={nobody};Database=heki;Username=heki";

        var (status, output, error) = HekiProcess.Run(["node", "--port", "0", "--journal-connection", connection], _folder.Path);

        Assert.Equal(1, status);
        Assert.Equal($"heki node: the journal did not start: PostgreSQL at 127.0.0.1:{nobody}: Connection refused (--journal-connection)", error.Trim());
        Assert.Equal("", output);
    }

    [Fact]
    public void Chaos_with_nodes_whose_journal_does_not_answer_stops_at_once_and_names_the_journal()
    {
        var connection = $"Host=127.0.0.1;Port={LoopbackPorts.Free()};Database=heki;Username=heki";

        var (status, _, error) = HekiProcess.Run(["chaos", "--cluster-nodes", "3", "--journal-connection", connection, "--duration", "30s"], _folder.Path);

        Assert.Equal(1, status);
        Assert.Contains("the cluster did not start: a heki node exited while starting (status 1): heki node: the journal did not start: PostgreSQL at 127.0.0.1:", error);
        Assert.Contains("Connection refused", error);
    }
}
