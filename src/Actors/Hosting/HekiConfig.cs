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
            JournalKind.InMemory => ConfigurationFactory.ParseString(logging + InMemoryPersistence),
            JournalKind.Sqlite => ConfigurationFactory.ParseString(logging + SqlitePersistence(
                    sqlitePath ?? throw new ArgumentException("a SQLite journal needs a database path", nameof(sqlitePath))))
                .WithFallback(SqlPersistence.DefaultConfiguration),
            JournalKind.PostgreSql => ConfigurationFactory.ParseString(logging + SqlPersistenceConfig(
                    JsonSerializer.Serialize(postgresConnection ?? throw new ArgumentException(
                        "a PostgreSQL journal needs a connection string", nameof(postgresConnection))), PostgresProvider))
                .WithFallback(SqlPersistence.DefaultConfiguration),
            _ => throw new ArgumentOutOfRangeException(nameof(journal), journal, "unknown journal kind"),
        };
        // Every message, event and snapshot of ours goes through our serializer, whatever the journal or transport.
        return config.WithFallback(HekiSerializer.Config);
    }

    private const string InMemoryPersistence = """
        akka.persistence {
          journal.plugin = "akka.persistence.journal.inmem"
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
        return new DataOptionsSetup(new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, SqliteJournal.ConnectionString(path))
            .UseAfterConnectionOpened(TuneConnection, TuneConnectionAsync));
    }

    /// <summary>
    /// The synchronous level of the SQLite journal in WAL mode (sqlite.org/pragma.html#pragma_synchronous). FULL: every
    /// commit's log append is fsynced before the commit returns, so an acknowledged change survives a process kill and a
    /// power loss or OS crash. NORMAL would survive a process kill only (docs/benchmarks.md, "SQLite journal", has both
    /// measured).
    /// </summary>
    public const string SqliteSynchronous = "FULL";

    /// <summary>The pragmas of a write connection: WAL (persistent in the file), the synchronous level, a busy wait.</summary>
    private const string ConnectionPragmas =
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = " + SqliteSynchronous + "; PRAGMA busy_timeout = 30000;";

    internal static void TuneConnection(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = ConnectionPragmas;
        command.ExecuteNonQuery();
    }

    private static async Task TuneConnectionAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = ConnectionPragmas;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static string SqlitePersistence(string path) =>
        // The provider's builder keeps the path a path (SqliteJournal); a JSON string literal is a valid HOCON quoted string
        // whatever the path holds (quotes, backslashes, ${...}, newlines).
        SqlPersistenceConfig(JsonSerializer.Serialize(SqliteJournal.ConnectionString(path)), "SQLite.MS");

    /// <summary>Akka.Persistence.Sql's provider for PostgreSQL 15 and later (through Npgsql).</summary>
    public const string PostgresProvider = "PostgreSQL.15";

    /// <summary>
    /// The SQL journal, read journal and snapshot store on one database: <paramref name="connection"/> is a HOCON quoted
    /// string. SQLite and PostgreSQL share the write path: one writer, batches of up to 400 rows (docs/benchmarks.md).
    /// </summary>
    private static string SqlPersistenceConfig(string connection, string provider) => $$"""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.sql"
            sql {
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
            }
          }
          query.journal.sql {
            connection-string = {{connection}}
            provider-name = "{{provider}}"
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.sql"
            sql {
              connection-string = {{connection}}
              provider-name = "{{provider}}"
              auto-initialize = true
            }
          }
        }
        """;
}
