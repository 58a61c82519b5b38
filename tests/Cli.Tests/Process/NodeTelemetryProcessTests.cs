using HekiActors.TestSupport;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Simulation;

namespace HekiActors.Cli.Tests;

/// <summary>
/// <c>heki node --metrics-port</c>: the node serves the metrics of the VMs it hosts on 127.0.0.1 (docs/cluster.md,
/// "What to monitor"): a hypercall a client makes to a VM on the node is counted there.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class NodeTelemetryProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_node_serves_the_metrics_of_the_VMs_it_hosts()
    {
        var (port, metricsPort) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        var seed = $"akka.tcp://heki@127.0.0.1:{port}";
        using var node = HekiProcess.Start(_folder.Path, "node", "--port", port.ToString(), "--seed", seed, "--metrics-port", metricsPort.ToString());
        node.WaitForOutput("heki node: up at", onStderr: false);
        Assert.Contains($"telemetry: Prometheus metrics at http://127.0.0.1:{metricsPort}/metrics", node.Stderr);

        await using (var client = await HekiHost.StartAsync(ClusterClient.Options(new HekiHostOptions(AkkaLogLevel: "OFF"), seed)))
        {
            await ClusterClient.WaitUntilUpAsync(client, seed, CancellationToken.None);
            Assert.IsType<VmCreated>(await client.Ask(new CreateVm("vm-1", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1)), TimeSpan.FromSeconds(30)));
            var protect = new GuestProtectMemory("vm-1", 0, Guid.NewGuid(),
                [[new MemoryRange(0x100 << VmMemoryAttributes.PageShift, 0x140 << VmMemoryAttributes.PageShift, HekiAttributes.Read | HekiAttributes.Exec | HekiAttributes.Immutable)]], 0);
            Assert.Equal(0, ((HypercallDone)await client.Ask(protect, TimeSpan.FromSeconds(30))).Ret);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string metrics;
        while (!(metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics")).Contains("heki_hypercalls_total{", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no heki_hypercalls_total on the node's endpoint within 30 s:\n{metrics[..Math.Min(metrics.Length, 2000)]}");
            await Task.Delay(500);
        }

        Assert.Contains("heki_hypercalls_total{", metrics);
        Assert.Contains("heki-node", metrics);
        node.Signal(System.Runtime.InteropServices.PosixSignal.SIGTERM);
        Assert.Equal(128 + 15, node.WaitForExit());
    }
}
