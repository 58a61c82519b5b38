using System.CommandLine;
using System.CommandLine.Invocation;
using Akka.Actor;
using Akka.Cluster;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Output;
using HekiActors.Cli.Simulate;

namespace HekiActors.Cli.Node;

/// <summary>
/// <c>heki node</c>: a cluster member that hosts VMs under Cluster.Sharding (docs/cluster.md). It joins its seed nodes,
/// prints <c>heki node: up at ADDRESS</c> once it is a member, and runs until SIGINT/SIGTERM (it then leaves: its shards
/// move to the other nodes after their VMs finished their journal work) or until the cluster downs it.
/// </summary>
/// <remarks>
/// Exit status: 128 + N stopped by signal N (after leaving the cluster); 1 the cluster removed the node (the split-brain
/// resolver downed it) or it could not start; 2 a usage error (nothing started).
/// </remarks>
public static class NodeCommand
{
    private const string Owner = "heki node";

    public static Command Build()
    {
        var config = new Option<string?>("--config")
        {
            Description = "A HOCON file: a heki.node section (host, port, public-host, seed-nodes, roles, journal, journal-connection, shards, telemetry, metrics-port) and Akka settings, except those heki sets itself (host, port, seed nodes, roles: docs/cluster.md). Options win over it.",
            HelpName = "FILE",
        };
        var host = new Option<string?>("--host") { Description = "The address to bind and advertise (default 127.0.0.1).", HelpName = "HOST" };
        var publicHost = new Option<string?>("--public-host") { Description = "The address other nodes reach this one at, if not --host (NAT, 0.0.0.0).", HelpName = "HOST" };
        var port = new Option<int?>("--port") { Description = $"The TCP port (default {NodeSettings.DefaultPort}; 0 picks a free one).", HelpName = "PORT" };
        var seed = new Option<string[]>("--seed")
        {
            Description = $"A seed node, akka.tcp://{NodeSettings.SystemName}@HOST:PORT (repeat for several). The first seed starts the cluster when it lists itself first.",
            HelpName = "ADDRESS",
        };
        var role = new Option<string[]>("--role") { Description = "A further cluster role (repeat, or ROLE,ROLE, for several); every node has role vm.", HelpName = "ROLE" };
        var journal = new Option<string?>("--journal")
        {
            Description = $"{NodeSettings.PostgresName} (the cluster's shared journal; the default with --journal-connection) or {NodeSettings.InMemoryName} (a VM's state dies with its node).",
            HelpName = "KIND",
        };
        var connection = new Option<string?>("--journal-connection")
        {
            Description = "The PostgreSQL connection string (Npgsql's Host=...;Port=...;Database=...;Username=...;Password=...); tables are created on first use.",
            HelpName = "CONNECTION",
        };
        var shards = new Option<int?>("--shards")
        {
            Description = $"Shards of the VM entity, the same on every node (default {VmMessageExtractor.DefaultMaxShards}: about ten per node on ten nodes).",
            HelpName = "N",
        };
        var telemetry = new Option<string?>("--telemetry")
        {
            Description = "Telemetry of the VMs this node hosts (comma-separated): otlp (OTEL_EXPORTER_OTLP_* variables), prometheus, console.",
            HelpName = "EXPORTERS",
        };
        var metricsPort = new Option<string?>("--metrics-port")
        {
            Description = $"Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (prometheus alone uses {TelemetryExporters.DefaultPrometheusPort}); one port per node.",
            HelpName = "PORT",
        };
        var command = new Command("node", "Run a cluster member that hosts VMs (Cluster.Sharding over a shared PostgreSQL journal) until stopped.")
        {
            config, host, publicHost, port, seed, role, journal, connection, shards, telemetry, metricsPort,
        };
        command.Action = new NodeAction(parse => new NodeSettings.Given(
            parse.GetValue(config), parse.GetValue(host), parse.GetValue(port), parse.GetValue(publicHost), parse.GetValue(seed),
            parse.GetValue(role), parse.GetValue(journal), parse.GetValue(connection), parse.GetValue(shards),
            parse.GetValue(telemetry), parse.GetValue(metricsPort)));
        return command;
    }

    /// <summary>Runs a node until <paramref name="stop"/> is cancelled or the cluster removes it; returns the exit status.</summary>
    internal static async Task<int> RunAsync(NodeSettings settings, TextWriter output, TextWriter error, CancellationToken stop)
    {
        var options = new HekiHostOptions(
            Journal: settings.Journal, PostgresConnection: settings.JournalConnection, SystemName: NodeSettings.SystemName,
            Config: settings.Akka,
            Cluster: new HekiClusterOptions(settings.Host, settings.Port, settings.SeedNodes, settings.Shards,
                HostsVms: true, Roles: settings.Roles, PublicHostname: settings.PublicHost));
        // Before the node starts, so its VMs' first metrics are seen; ended after it left, so the last ones are exported.
        var telemetryRun = new TelemetryRun(error, Owner);
        using var telemetry = telemetryRun.Start(settings.Telemetry);
        if (telemetry is null)
            return ExitCodes.Failed;
        try
        {
            return await RunNodeAsync(settings, options, output, error, stop).ConfigureAwait(false);
        }
        finally
        {
            telemetryRun.End(telemetry);
        }
    }

    private static async Task<int> RunNodeAsync(NodeSettings settings, HekiHostOptions options, TextWriter output, TextWriter error, CancellationToken stop)
    {
        if (PortProbe.WhyNotBindable(settings.Host, settings.Port) is { } why)
        {
            error.WriteLine($"{Owner}: could not start on {settings.Host}:{settings.Port}: {why}");
            return ExitCodes.Failed;
        }

        HekiHost node;
        try
        {
            // A signal while the journal is checked or Akka starts stops the node there (no start is left half done).
            node = await HekiHost.StartAsync(options, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Stopped;
        }
        catch (JournalStartException e)
        {
            error.WriteLine($"{Owner}: {e.Message} (--journal-connection)");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A port in use, an address that cannot be bound: the one line a user needs.
            error.WriteLine($"{Owner}: could not start on {settings.Host}:{settings.Port}: {e.Innermost().Message}");
            return ExitCodes.Failed;
        }

        await using (node.ConfigureAwait(false))
        {
            var cluster = Cluster.Get(node.System);
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            var journal = settings.Journal == JournalKind.PostgreSql ? NodeSettings.PostgresName : NodeSettings.InMemoryName;
            output.WriteLine($"{Owner}: joining as {cluster.SelfAddress} (roles {string.Join(',', cluster.SelfRoles.Order())}; journal {journal}; {settings.Shards} shards; seeds {(settings.SeedNodes.Count == 0 ? "none: waiting to be joined" : string.Join(' ', settings.SeedNodes))})");
            output.Flush();
            var stopped = Task.Delay(Timeout.Infinite, stop);
            var removed = node.System.WhenTerminated;
            if (await Task.WhenAny(up.Task, stopped, removed).ConfigureAwait(false) == up.Task)
            {
                output.WriteLine($"{Owner}: up at {cluster.SelfAddress}");
                output.Flush();
                await Task.WhenAny(stopped, removed).ConfigureAwait(false);
            }

            if (removed.IsCompleted && !stop.IsCancellationRequested)
            {
                error.WriteLine($"{Owner}: {cluster.SelfAddress} was removed from the cluster (downed by the split-brain resolver, or it left); its VMs run on the other nodes");
                return ExitCodes.Failed;
            }

            error.WriteLine($"{Owner}: leaving the cluster; this node's VMs move to the other nodes");
        }

        return Stopped;
    }

    /// <summary>
    /// Set in the environment of the nodes <c>heki chaos --cluster-nodes</c> starts: the node leaves and exits when its
    /// standard input (a pipe from its parent) ends, so no node outlives its parent, even one killed with SIGKILL.
    /// </summary>
    internal const string StopOnEndOfInput = "HEKI_NODE_STOP_ON_END_OF_INPUT";

    /// <summary>Reads standard input to its end on a thread of its own, then stops the node.</summary>
    private static void WatchInput(CancellationTokenSource stop)
    {
        var watcher = new Thread(() =>
        {
            try
            {
                using var input = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (input.Read(buffer) > 0)
                {
                    // Nothing is ever written: only the end matters.
                }
            }
            catch (IOException)
            {
                // A broken pipe is an end too.
            }

            stop.Cancel();
        }) { IsBackground = true, Name = "heki-node-parent-watch" };
        watcher.Start();
    }

    /// <summary>What <see cref="RunAsync"/> returns when it stopped on a signal (the caller turns it into 128 + the signal).</summary>
    internal const int Stopped = -1;

    private sealed class NodeAction(Func<ParseResult, NodeSettings.Given> given) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (CommandLineProblems.Report(parse, error))
                return ExitCodes.Usage;
            if (NodeSettings.Resolve(given(parse), out var problem) is not { } settings)
            {
                error.WriteLine($"{Owner}: {problem}");
                return ExitCodes.Usage;
            }

            using var signals = StopSignals.Register(_ => { });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(signals.Token);
            if (Environment.GetEnvironmentVariable(StopOnEndOfInput) == "1")
                WatchInput(stop);
            var status = RunAsync(settings, output, error, stop.Token).GetAwaiter().GetResult();
            return status == Stopped ? ExitCodes.StoppedBy(signals.Received ?? System.Runtime.InteropServices.PosixSignal.SIGTERM) : status;
        }
    }
}
