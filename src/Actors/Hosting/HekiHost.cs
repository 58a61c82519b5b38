using System.Collections.Immutable;
using Akka;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Remote.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;
using HekiActors.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HekiActors.Actors.Hosting;

/// <summary>Registry key of the VM entity's entry point: the local <see cref="VmParentActor"/> or the shard region.</summary>
public sealed class VmRegion;

/// <summary>Registry key of the node's <see cref="WarningSupervisor"/>.</summary>
public sealed class WarningsKey;

/// <summary>
/// A running HekiActors node, hosted with Akka.Hosting: the actor system, the node's warning supervisor and the
/// VM entity's entry point (<see cref="Vms"/>), which is a local parent with one child per VM id or, when
/// <see cref="HekiHostOptions.Cluster"/> is set, a Cluster.Sharding region: the same messages, the same answers.
/// The edge where callers outside the actor system (the CLI, tests) Ask; inside, actors Tell.
/// </summary>
public sealed class HekiHost : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The shard region's type name and the cluster role of nodes that host VMs.</summary>
    public const string VmTypeName = "vm";

    /// <summary>The warning supervisor's name under <c>/user</c>: a cluster client asks every node's for its counts.</summary>
    public const string WarningsName = "warnings";

    private readonly IHost _host;
    private readonly string? _sqlitePath;

    private HekiHost(IHost host, ActorSystem system, IActorRef warnings, IActorRef vms, string? sqlitePath)
    {
        _host = host;
        _sqlitePath = sqlitePath;
        System = system;
        Warnings = warnings;
        Vms = vms;
    }

    public ActorSystem System { get; }

    /// <summary>The node's <see cref="WarningSupervisor"/>.</summary>
    public IActorRef Warnings { get; }

    /// <summary>Where every request addressed to a VM (<see cref="IWithVmId"/>) goes: the local parent or the shard region.</summary>
    public IActorRef Vms { get; }

    /// <summary>Starts a node and waits until it takes requests (for a durable local journal, until its VMs recovered).</summary>
    public static HekiHost Start(HekiHostOptions? options = null) => StartAsync(options).GetAwaiter().GetResult();

    /// <summary>
    /// Starts a node and waits until it takes requests (for a durable local journal, until its VMs recovered).
    /// <paramref name="cancellationToken"/> cancels the start only; stop a started node with <see cref="DisposeAsync"/>
    /// (Akka.Hosting shuts the actor system down when the token it started with is cancelled, so never pass a run's token).
    /// </summary>
    public static async Task<HekiHost> StartAsync(HekiHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HekiHostOptions();
        if (options is { Journal: JournalKind.PostgreSql, PostgresConnection: { } connection }
            && await PostgresJournal.WhyNotUsableAsync(connection, cancellationToken).ConfigureAwait(false) is { } unusable)
            throw new JournalStartException("the journal did not start: " + unusable);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        // Signals belong to the program (the CLI handles Ctrl+C itself), not to the generic host.
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        builder.Services.AddAkka(options.SystemName, (akka, _) => Configure(akka, options));
        var host = builder.Build();
        using (var starting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            await host.StartAsync(starting.Token).ConfigureAwait(false);
        }

        var system = host.Services.GetRequiredService<ActorSystem>();
        var registry = host.Services.GetRequiredService<ActorRegistry>();
        var heki = new HekiHost(host, system, registry.Get<WarningsKey>(), registry.Get<VmRegion>(),
            options.Journal == JournalKind.Sqlite ? options.SqlitePath : null);
        try
        {
            if (options is { Cluster: null, Journal: JournalKind.Sqlite or JournalKind.PostgreSql, RecoverVmsAtStart: true })
                await heki.RecoverPersistedVmsAsync().ConfigureAwait(false);
            else if (options is { Journal: not JournalKind.InMemory })
                // A cluster node too: a PostgreSQL it cannot reach fails its start in one line, not each VM's first request.
                await heki.JournalReadyAsync().ConfigureAwait(false);
        }
        catch
        {
            await heki.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return heki;
    }

    /// <summary>
    /// Starts the warning supervisor and the local VM parent in an existing system (tests use the TestKit's; the
    /// simulation its own). The same actors <see cref="StartAsync"/> starts in local mode.
    /// </summary>
    public static (IActorRef Warnings, IActorRef Vms) StartIn(ActorSystem system, HekiHostOptions options)
    {
        var warnings = StartWarnings(system, options);
        return (warnings, system.ActorOf(VmParentActor.Props(warnings, options.VmSettings ?? VmActorSettings.Default), "vms"));
    }

    /// <summary>Sends <paramref name="request"/> to its VM and waits for the reply.</summary>
    public Task<object> Ask(object request, TimeSpan? timeout = null) =>
        Vms.Ask<object>(request, timeout ?? DefaultTimeout);

    /// <summary>Waits until every warning sent so far has been printed or suppressed.</summary>
    public Task FlushWarnings(TimeSpan? timeout = null) =>
        Warnings.Ask<WarningsFlushed>(Protocol.FlushWarnings.Instance, timeout ?? DefaultTimeout);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
        // A node that stopped leaves one file, in rollback mode (heki journal reads it in place).
        if (_sqlitePath is not null)
            SqliteJournal.Settle(_sqlitePath);
    }

    private static void Configure(AkkaConfigurationBuilder akka, HekiHostOptions options)
    {
        var config = (options.Config ?? Akka.Configuration.Config.Empty).WithFallback(
            HekiConfig.Build(options.Journal, options.SqlitePath, options.AkkaLogLevel, options.PostgresConnection));
        akka.AddHocon(config, HoconAddMode.Prepend);
        if (HekiConfig.JournalSetup(options.Journal, options.SqlitePath) is { } journalSetup)
            akka.AddSetup(journalSetup);
        akka.WithActors((system, registry) => registry.Register<WarningsKey>(StartWarnings(system, options)));
        var settings = options.VmSettings ?? VmActorSettings.Default;
        if (options.Cluster is not { } cluster)
        {
            akka.WithActors((system, registry) =>
            {
                var vms = system.ActorOf(VmParentActor.Props(registry.Get<WarningsKey>(), settings), "vms");
                registry.Register<VmRegion>(vms);
                // As a shard region hands its entities off when its node leaves: the VMs finish their journal work first.
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceStop, "stop-vms", () => StopVmsAsync(vms));
            });
            return;
        }

        akka.AddHocon(ClusterConfig, HoconAddMode.Append);
        akka.WithRemoting(new RemoteOptions { HostName = cluster.Hostname, Port = cluster.Port, PublicHostName = cluster.PublicHostname });
        akka.WithClustering(new ClusterOptions
        {
            SeedNodes = [.. cluster.SeedNodes],
            Roles = [.. cluster.HostsVms ? [VmTypeName] : Array.Empty<string>(), .. cluster.Roles.Where(r => r != VmTypeName)],
            // Keep-majority among the nodes that host VMs (clients such as `heki simulate --cluster` do not count): on a
            // partition the side with more VM nodes stays and the other downs itself (docs/cluster.md).
            SplitBrainResolver = new KeepMajorityOption { Role = VmTypeName },
        });
        var extractor = new VmMessageExtractor(cluster.MaxShards);
        if (!cluster.HostsVms)
        {
            akka.WithShardRegionProxy<VmRegion>(VmTypeName, VmTypeName, extractor);
            return;
        }

        akka.WithShardRegion<VmRegion>(VmTypeName,
            (_, registry, _) => entityId => VmActor.Props(VmMessageExtractor.VmIdOf(entityId), registry.Get<WarningsKey>(), settings),
            extractor,
            new ShardOptions
            {
                StateStoreMode = StateStoreMode.DData,
                RememberEntities = false,
                Role = VmTypeName,
                // A VM lives until it is destroyed: idleness is counted only from messages through the region, and a VM
                // whose vCPUs run a workload talks to them directly, so idle passivation would stop running VMs.
                ShouldPassivateIdleEntities = false,
                // A hand-off (rebalance, a node leaving) lets the change in flight be answered before the entity stops.
                HandOffStopMessage = StopVmEntity.Instance,
            });
    }

    /// <summary>
    /// Cluster settings beneath the caller's: no durable ddata keys (remember-entities is off, and the LightningDB store
    /// behind them fails at run time with this Akka release).
    /// </summary>
    private static readonly Akka.Configuration.Config ClusterConfig = Akka.Configuration.ConfigurationFactory.ParseString("""
        akka.cluster.sharding.distributed-data.durable.keys = []
        """);

    /// <summary>How long a shutdown waits for the VMs to finish their changes and journal work (then it goes on).</summary>
    public static readonly TimeSpan VmStopTimeout = TimeSpan.FromSeconds(10);

    private static async Task<Done> StopVmsAsync(IActorRef vms)
    {
        try
        {
            await vms.GracefulStop(VmStopTimeout, StopVmEntity.Instance).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TaskCanceledException or AskTimeoutException or OperationCanceledException)
        {
            // A journal that does not answer must not hold the shutdown: what was acknowledged is durable already.
        }

        return Done.Instance;
    }

    private static IActorRef StartWarnings(ActorSystem system, HekiHostOptions options) =>
        system.ActorOf((options.VmSettings ?? VmActorSettings.Default).OnControlDispatcher(
            WarningSupervisor.Props(options.Clock, options.WarningSink, options.WarningObserver)), WarningsName);

    /// <summary>
    /// A durable local journal may hold VMs from an earlier run: start each (it recovers from its journal) before
    /// any request, so <see cref="ListVms"/> and the first request see them as they were.
    /// </summary>
    private async Task RecoverPersistedVmsAsync()
    {
        var journal = await SqlQueries.OpenAsync(System, DefaultTimeout).ConfigureAwait(false);
        var ids = await journal.CurrentPersistenceIds()
            .Where(id => id.StartsWith(VmActor.PersistenceIdPrefix, StringComparison.Ordinal))
            .RunWith(Sink.Seq<string>(), System.Materializer()).ConfigureAwait(false);
        Vms.Tell(new RecoverVms([.. ids.Select(VmMessageExtractor.VmIdOf)]));
    }

    /// <summary>
    /// Waits until the durable journal and snapshot store answer (a recovery of an id no VM has): their plugins start
    /// lazily, on the first VM's recovery, and starting them (connections, tables, the SQL library's first queries) took
    /// 1-2 s that a simulation counted as its VMs' boot (issue 11). A journal that cannot start fails the node's start.
    /// </summary>
    private async Task JournalReadyAsync()
    {
        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        System.ActorOf(Props.Create(() => new JournalProbe(recovered)), "journal-ready");
        try
        {
            await recovered.Task.WaitAsync(DefaultTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new JournalStartException($"the journal did not answer within {DefaultTimeout.TotalSeconds:0} s", e);
        }
    }

    /// <summary>Recovers an id no VM has (its snapshot, then its events), tells how that went, and stops.</summary>
    private sealed class JournalProbe(TaskCompletionSource recovered) : Akka.Persistence.UntypedPersistentActor
    {
        public override string PersistenceId => "heki-journal-ready";

        protected override void OnRecover(object message)
        {
            if (message is not Akka.Persistence.RecoveryCompleted)
                return;
            recovered.TrySetResult();
            Context.Stop(Self);
        }

        protected override void OnCommand(object message) => Unhandled(message);

        protected override void OnRecoveryFailure(Exception reason, object? message = null)
        {
            recovered.TrySetException(new JournalStartException("the journal did not start: " + reason.Innermost().Message, reason));
            base.OnRecoveryFailure(reason, message);
        }
    }

    /// <summary>The generic host's lifetime without its console signal handlers.</summary>
    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>How a node joins a cluster to host VMs under Cluster.Sharding.</summary>
/// <param name="Hostname">The address to bind and advertise (127.0.0.1 in tests).</param>
/// <param name="Port">The port to bind (0: a free one).</param>
/// <param name="SeedNodes">Seed node addresses (<c>akka.tcp://SYSTEM@HOST:PORT</c>); none: join with <c>Cluster.Join</c>.</param>
/// <param name="MaxShards">Shards of the VM entity (<see cref="VmMessageExtractor"/>); the same on every node.</param>
/// <param name="HostsVms">
/// True: the node has role <c>vm</c> and hosts VM entities. False: a client (<c>heki simulate --cluster</c>, tests) that
/// reaches the VMs through a shard region proxy and hosts none.
/// </param>
/// <param name="Roles">Further cluster roles of the node (besides <c>vm</c>).</param>
/// <param name="PublicHostname">The address other nodes reach this one at, when it differs from the bound one (NAT, 0.0.0.0).</param>
public sealed record HekiClusterOptions(
    string Hostname = "127.0.0.1",
    int Port = 0,
    IReadOnlyList<string>? SeedNodes = null,
    int MaxShards = VmMessageExtractor.DefaultMaxShards,
    bool HostsVms = true,
    IReadOnlyList<string>? Roles = null,
    string? PublicHostname = null)
{
    public IReadOnlyList<string> SeedNodes { get; init; } = SeedNodes ?? [];

    public IReadOnlyList<string> Roles { get; init; } = Roles ?? [];
}
