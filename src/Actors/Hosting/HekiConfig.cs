using System.Text.Json;
using Akka.Configuration;
using Akka.Persistence.Sql;
using HekiActors.Protocol.Serialization;

namespace HekiActors.Actors.Hosting;

/// <summary>The HOCON an actor system needs to run HekiActors, for each journal choice.</summary>
public static class HekiConfig
{
    /// <summary>Builds the configuration; the SQLite path must be given for <see cref="JournalKind.Sqlite"/>.</summary>
    public static Config Build(JournalKind journal, string? sqlitePath = null, string logLevel = "WARNING")
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

    private static string SqlitePersistence(string path)
    {
        // The provider's builder keeps the path a path (SqliteJournal); a JSON string literal is a valid HOCON quoted string
        // whatever the path holds (quotes, backslashes, ${...}, newlines).
        var connection = JsonSerializer.Serialize(SqliteJournal.ConnectionString(path));
        return $$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = {{connection}}
                  provider-name = "SQLite.MS"
                  auto-initialize = true
                }
              }
              query.journal.sql {
                connection-string = {{connection}}
                provider-name = "SQLite.MS"
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = {{connection}}
                  provider-name = "SQLite.MS"
                  auto-initialize = true
                }
              }
            }
            """;
    }
}
