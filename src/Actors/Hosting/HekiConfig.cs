using System.Data.Common;
using System.Text.Json;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using HekiActors.Protocol.Serialization;
using LinqToDB;

namespace HekiActors.Actors.Hosting;

/// <summary>The HOCON an actor system needs to run HekiActors, for each journal choice.</summary>
public static class HekiConfig
{
    /// <summary>
    /// Builds the configuration; the SQLite path must be given for <see cref="JournalKind.Sqlite"/>, the connection string
    /// (Npgsql's <c>Host=...;Port=...;Database=...;Username=...</c>) for <see cref="JournalKind.PostgreSql"/>.
    /// </summary>
    public static Config Build(JournalKind journal, string? sqlitePath = null, string logLevel = "WARNING", string? postgresConnection = null)
    {
        var logging = $$"""
            akka {
              loglevel = {{logLevel}}
              stdout-loglevel = {{logLevel}}
              # One line per event, no stack traces (a node's log is read by people; see OneLineLogger).
              stdout-logger-class = "{{typeof(OneLineLogger).AssemblyQualifiedName}}"
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              # The node's owner shuts it down (HekiHost.DisposeAsync; the CLI on SIGINT/SIGTERM, after its report):
              # Akka's own hook would terminate the actor system under a running command on the first SIGTERM.
              coordinated-shutdown.run-by-clr-shutdown-hook = off
              # The VMs finish their changes and journal work in this phase (HekiHost.VmStopTimeout, 10 s).
              coordinated-shutdown.phases.service-stop.timeout = 15s
            }
            """;
        var config = journal switch
        {
            JournalKind.InMemory => ConfigurationFactory.ParseString(logging + Mailboxes + InMemoryPersistence),
            JournalKind.Sqlite => ConfigurationFactory.ParseString(logging + Mailboxes + SqlitePersistence(
                    sqlitePath ?? throw new ArgumentException("a SQLite journal needs a database path", nameof(sqlitePath))))
                .WithFallback(SqlPersistence.DefaultConfiguration),
            JournalKind.PostgreSql => ConfigurationFactory.ParseString(logging + Mailboxes + SqlPersistenceConfig(
                    JsonSerializer.Serialize(postgresConnection ?? throw new ArgumentException(
                        "a PostgreSQL journal needs a connection string", nameof(postgresConnection))), PostgresProvider))
                .WithFallback(SqlPersistence.DefaultConfiguration),
            _ => throw new ArgumentOutOfRangeException(nameof(journal), journal, "unknown journal kind"),
        };
        // Every message, event and snapshot of ours goes through our serializer, whatever the journal or transport.
        return config.WithFallback(HekiSerializer.Config);
    }

    /// <summary>Every actor's mailbox holds no slots while the actor is idle (<see cref="CompactMailbox"/>, issue 11).</summary>
    private static readonly string Mailboxes = $$"""
        akka.actor.default-mailbox.mailbox-type = "{{typeof(CompactMailbox).AssemblyQualifiedName}}"
        akka.actor.mailbox.unbounded-queue-based.mailbox-type = "{{typeof(CompactMailbox).AssemblyQualifiedName}}"
        akka.actor.mailbox.unbounded-deque-based.mailbox-type = "{{typeof(CompactDequeMailbox).AssemblyQualifiedName}}"

        """;

    private static readonly string InMemoryPersistence = $$"""
        akka.persistence {
          journal.plugin = "akka.persistence.journal.inmem"
          # Ours, not Akka's MemoryJournal: a list per persistence id (InMemoryJournal, issue 11).
          journal.inmem.class = "{{typeof(InMemoryJournal).AssemblyQualifiedName}}"
          # Akka's replay filter guards a journal shared by several writers of one id (a split brain); a process's own
          # in-memory journal has one writer an id, and the filter cost a child actor of the journal per recovery (issue 11).
          journal.inmem.replay-filter.mode = off
          snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        }
        """;

    /// <summary>
    /// What every connection the SQL journal, snapshot store and read journal open runs first (a SQLite journal; null for
    /// the in-memory one): WAL with <see cref="SqliteSynchronous"/>, so a commit is one append to the log (fsynced at FULL)
    /// instead of a rollback journal's three syncs, and readers never block the writer. Pass it with the configuration
    /// wherever an actor system writes a journal (<see cref="HekiHost"/> does; <see cref="JournalReader"/> only reads a
    /// settled file and needs none): a system without it still works on the file (WAL is kept in the file once set),
    /// at SQLite's default synchronous level.
    /// </summary>
    public static Setup? JournalSetup(JournalKind journal, string? sqlitePath)
    {
        if (journal != JournalKind.Sqlite)
            return null;
        var path = sqlitePath ?? throw new ArgumentException("a SQLite journal needs a database path", nameof(sqlitePath));
        // One set of options per plugin: only the journal's writes yield (ConnectionTuning), so the snapshot store still
        // runs its saves and deletions one after another, in the order its VMs asked for them.
        var setup = new MultiDataOptionsSetup();
        setup.AddDataOptions("akka.persistence.journal.sql", SqliteOptions(path, new ConnectionTuning(yieldOnOpen: true)));
        setup.AddDataOptions("akka.persistence.snapshot-store.sql", SqliteOptions(path, new ConnectionTuning(yieldOnOpen: false)));
        setup.AddDataOptions("akka.persistence.query.journal.sql", SqliteOptions(path, new ConnectionTuning(yieldOnOpen: false)));
        return setup;
    }

    private static DataOptions SqliteOptions(string path, ConnectionTuning tuning) => new DataOptions()
        .UseConnectionString(ProviderName.SQLiteMS, SqliteJournal.ConnectionString(path))
        .UseAfterConnectionOpened(tuning.Tune, tuning.TuneAsync);

    /// <summary>
    /// The synchronous level of the SQLite journal in WAL mode (sqlite.org/pragma.html#pragma_synchronous). FULL: every
    /// commit's log append is fsynced before the commit returns, so an acknowledged change survives a process kill and a
    /// power loss or OS crash. NORMAL would survive a process kill only (docs/benchmarks.md, "SQLite journal", has both
    /// measured).
    /// </summary>
    public const string SqliteSynchronous = "FULL";

    /// <summary>The pragmas of every connection: SQLite's own busy wait first, the synchronous level.</summary>
    private const string ConnectionPragmas = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = " + SqliteSynchronous + ";";

    /// <summary>The first connection's: WAL too (kept in the file once set).</summary>
    private const string FirstConnectionPragmas = ConnectionPragmas + " PRAGMA journal_mode = WAL;";

    /// <summary>
    /// Tunes the connections of one journal setup (one node). WAL is set on the first only: setting it, even to WAL again,
    /// waits for the writer's transaction, and Microsoft.Data.Sqlite waits on a busy statement in 150 ms sleeps; a node
    /// whose every connection (each write and each recovery opens one) asked again spent seconds of its boot asleep.
    /// </summary>
    private sealed class ConnectionTuning(bool yieldOnOpen)
    {
        private int _walSet;

        private string Pragmas => Interlocked.Exchange(ref _walSet, 1) == 0 ? FirstConnectionPragmas : ConnectionPragmas;

        public void Tune(DbConnection connection) => TuneConnection(connection, Pragmas);

        public async Task TuneAsync(DbConnection connection, CancellationToken cancellationToken)
        {
            // The SQL journal batches the writes that arrive while one is in flight (one writer, up to batch-size rows a
            // transaction), but SQLite's driver completes every "async" call synchronously: the whole write (open, insert,
            // commit and its fsync) ran inside the write stream's step, the stream never saw a write in flight, and every
            // event was committed alone (4,003 fsyncs for 4,618 events in a default run; docs/benchmarks.md, issue 11).
            // Yielding as a write opens its connection runs the rest of it on the thread pool while the stream gathers
            // the next batch. The journal's writes stay one at a time (parallelism = 1), so in order.
            if (yieldOnOpen)
                await Task.Yield();
            await TuneConnectionAsync(connection, Pragmas, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static void TuneConnection(DbConnection connection) => TuneConnection(connection, FirstConnectionPragmas);

    private static void TuneConnection(DbConnection connection, string pragmas)
    {
        using var command = connection.CreateCommand();
        command.CommandText = pragmas;
        command.ExecuteNonQuery();
    }

    private static async Task TuneConnectionAsync(DbConnection connection, string pragmas, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The SQL plugins' read transactions on SQLite. Microsoft.Data.Sqlite begins every transaction but a read-uncommitted one
    /// with <c>BEGIN IMMEDIATE</c>, which takes the database's write lock: each recovery's reads (a VM's snapshot, events and
    /// highest sequence number) then queued behind the journal's writer and its fsyncs, and the writer behind them. Read
    /// uncommitted begins a deferred transaction instead; without a shared cache (the journal's connections have none) SQLite
    /// still reads only committed data, and in WAL mode a reader sees the last commit without ever blocking the writer.
    /// </summary>
    private const string SqliteReadIsolation = "read-uncommitted";

    private static string SqlitePersistence(string path) =>
        // The provider's builder keeps the path a path (SqliteJournal); a JSON string literal is a valid HOCON quoted string
        // whatever the path holds (quotes, backslashes, ${...}, newlines).
        SqlPersistenceConfig(JsonSerializer.Serialize(SqliteJournal.ConnectionString(path)), "SQLite.MS", SqliteReadIsolation,
            journalClass: typeof(SqliteWriteJournal), snapshotClass: typeof(SqliteSnapshotStore));

    /// <summary>Akka.Persistence.Sql's provider for PostgreSQL 15 and later (through Npgsql).</summary>
    public const string PostgresProvider = "PostgreSQL.15";

    /// <summary>
    /// The SQL journal, read journal and snapshot store on one database: <paramref name="connection"/> is a HOCON quoted
    /// string. SQLite and PostgreSQL share the write path: one writer, batches of up to 400 rows (docs/benchmarks.md).
    /// </summary>
    private static string SqlPersistenceConfig(string connection, string provider, string readIsolation = "unspecified", Type? journalClass = null,
        Type? snapshotClass = null) => $$"""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.sql"
            sql {
              {{PluginClass(journalClass)}}
              connection-string = {{connection}}
              provider-name = "{{provider}}"
              auto-initialize = true
              # One writer: SQLite takes one write transaction at a time, so more would only wait on its lock.
              # Writes that arrive while one is committed wait in the queue and go together in the next
              # transaction (up to batch-size rows), so under load a commit (one fsync) carries many VMs' events.
              # PostgreSQL gets the same: a node's VMs share one connection's commits (measured in docs/benchmarks.md).
              parallelism = 1
              batch-size = 400
              db-round-trip-max-batch-size = 1000
              read-isolation-level = {{readIsolation}}
            }
          }
          query.journal.sql {
            connection-string = {{connection}}
            provider-name = "{{provider}}"
            read-isolation-level = {{readIsolation}}
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.sql"
            sql {
              {{PluginClass(snapshotClass)}}
              connection-string = {{connection}}
              provider-name = "{{provider}}"
              auto-initialize = true
              read-isolation-level = {{readIsolation}}
            }
          }
        }
        """;

    /// <summary>A plugin's class line, or nothing for the plugin's own.</summary>
    private static string PluginClass(Type? type) => type is null ? "" : $"class = \"{type.AssemblyQualifiedName}\"";
}
