using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Db;
using Akka.Persistence.Sql.Journal.Dao;
using Akka.Streams;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Memory.Vm;
using Microsoft.Data.Sqlite;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// Runs the SQL journal's write path once, on a scratch database in memory, as the journal starts: the first writes of a
/// process paid 50-100 ms for it (compiling the SQL library's insert statements, the plugin's serialization and our
/// serializer's event types; docs/benchmarks.md, issue 11, "SQLite boot (sixth pass)") inside the first VMs' boot.
/// </summary>
/// <remarks>
/// The scratch database is SQLite's in-memory one, named uniquely and shared only by this warm-up's connections; it is
/// dropped when the last of them closes. The journal's file is never opened here: the warm-up's plugin settings carry
/// the scratch connection string and none of the node's connection options.
/// </remarks>
internal static class SqliteWriteWarmUp
{
    /// <summary>Writes a few events like a boot's, one alone and then a batch, into a scratch copy of the journal's tables.</summary>
    /// <param name="pluginConfig">The journal plugin's settings (its table mapping, batching); the connection string is replaced.</param>
    public static async Task RunAsync(ActorSystem system, Config pluginConfig, ILoggingAdapter log)
    {
        var connection = new SqliteConnectionStringBuilder
        {
            DataSource = "heki-warm-up-" + Guid.NewGuid().ToString("N"),
            Mode = SqliteOpenMode.Memory,
            Cache = SqliteCacheMode.Shared,
        }.ToString();
        var keeper = new SqliteConnection(connection); // the database lives while one connection to it is open
        await using (keeper.ConfigureAwait(false))
        {
            await keeper.OpenAsync().ConfigureAwait(false);
            var config = new JournalConfig(ConfigurationFactory.ParseString("connection-string = " + JsonSerializer.Serialize(connection))
                .WithFallback(pluginConfig).WithFallback(SqlPersistence.DefaultJournalConfiguration));
            using var stop = new CancellationTokenSource();
            // Its own (settings given): without settings Akka hands out the system's shared materializer, which this shuts down.
            var materializer = ActorMaterializer.Create(system, ActorMaterializerSettings.Create(system), "heki-journal-warm-up");
            try
            {
                var dao = new ByteArrayJournalDao(system.Scheduler.Advanced, materializer, new AkkaPersistenceDataConnectionFactory(config), config,
                    system.Serialization, log, selfUuid: null, stop.Token);
                await dao.InitializeTables(stop.Token).ConfigureAwait(false);
                var config16 = VmConfig.FromMegabytes(16, 1);
                await dao.AsyncWriteMessages([Write("a", 1, new VmConfiguredEvent(config16, Guid.NewGuid()))], stop.Token).ConfigureAwait(false);
                await dao.AsyncWriteMessages(
                [
                    Write("a", 2, new PermissionsChangedEvent(Guid.NewGuid(), [new AppliedRange(0, 1, 7)], 0)),
                    Write("a", 3, new CrPinnedEvent(Guid.NewGuid(), 0, 1)),
                    Write("b", 1, new VmConfiguredEvent(config16, Guid.NewGuid())),
                ], stop.Token).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                materializer.Shutdown();
            }
        }
    }

    private static AtomicWrite Write(string persistenceId, long sequenceNr, IVmEvent ev) =>
        new(ImmutableList.Create<IPersistentRepresentation>(new Persistent(ev, sequenceNr, "heki-warm-up-" + persistenceId, writerGuid: "heki-warm-up")));
}
