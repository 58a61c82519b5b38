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
}
