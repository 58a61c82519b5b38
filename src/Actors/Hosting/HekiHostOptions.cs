using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;

namespace HekiActors.Actors.Hosting;

/// <summary>How to start a <see cref="HekiHost"/>.</summary>
/// <param name="SqlitePath">The database file when <paramref name="Journal"/> is <see cref="JournalKind.Sqlite"/>.</param>
/// <param name="PostgresConnection">
/// The Npgsql connection string when <paramref name="Journal"/> is <see cref="JournalKind.PostgreSql"/>
/// (<c>Host=127.0.0.1;Port=5432;Database=heki;Username=heki</c>); the tables are created on first use.
/// </param>
/// <param name="Clock">The warning rate limiters' clock (tests pass a fake one).</param>
/// <param name="WarningSink">Where printed kernel warnings go, besides the Akka log.</param>
/// <param name="WarningObserver">Sees every warning decision (a live dashboard's per-VM violations); null for none.</param>
/// <param name="AkkaLogLevel">Akka's own log level ("OFF" keeps a replay's output clean).</param>
/// <param name="Config">HOCON that overrides the host's own (e.g. <c>akka.actor.serialize-messages = on</c> in tests).</param>
/// <param name="Cluster">Null: VMs live under a local parent (the default). Set: this node joins a cluster and hosts VMs under Cluster.Sharding.</param>
/// <param name="RecoverVmsAtStart">
/// Local mode on a durable journal: start every VM it holds before taking requests (false: each VM recovers on its
/// first message, e.g. once a caller is listening for journal failures).
/// </param>
public sealed record HekiHostOptions(
    JournalKind Journal = JournalKind.InMemory,
    string? SqlitePath = null,
    TimeProvider? Clock = null,
    IWarningSink? WarningSink = null,
    string AkkaLogLevel = "WARNING",
    string SystemName = "heki",
    VmActorSettings? VmSettings = null,
    Akka.Configuration.Config? Config = null,
    HekiClusterOptions? Cluster = null,
    bool RecoverVmsAtStart = true,
    IWarningObserver? WarningObserver = null,
    string? PostgresConnection = null);
