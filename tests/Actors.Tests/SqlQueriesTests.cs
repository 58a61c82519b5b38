using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using Microsoft.Data.Sqlite;

namespace HekiActors.Actors.Tests;

/// <summary>
/// The SQL read journal opens however long its write journal takes to start: the plugin's own constructor gives up after
/// a fixed 5 seconds (seen on a loaded machine as AskTimeoutExceptions out of <c>heki journal</c> and host start-up).
/// </summary>
public sealed class SqlQueriesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("heki-sql-queries-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_read_journal_opens_when_its_write_journal_starts_later_than_the_plugins_5_seconds()
    {
        var path = Path.Combine(_dir, "j.db");
        await using (var host = HekiHost.Start(new HekiHostOptions(JournalKind.Sqlite, path, AkkaLogLevel: "OFF")))
            Assert.IsType<VmCreated>(await host.Ask(new CreateVm("a", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1))));
        var connection = System.Text.Json.JsonSerializer.Serialize(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        var config = ConfigurationFactory.ParseString($$"""
            akka.persistence.query.journal.sql {
              connection-string = {{connection}}
              provider-name = "SQLite.MS"
              write-plugin = "heki-late-journal"
            }
            heki-late-journal {
              class = "{{typeof(LateStartJournal).AssemblyQualifiedName}}"
              delay = 6s
              target = "akka.persistence.journal.sql"
            }
            """).WithFallback(HekiConfig.Build(JournalKind.Sqlite, path, "OFF"));
        using var system = ActorSystem.Create("sql-queries", config);

        var queries = await SqlQueries.OpenAsync(system, TimeSpan.FromSeconds(60));

        var ids = await queries.CurrentPersistenceIds().RunWith(Sink.Seq<string>(), system.Materializer());
        Assert.Contains(Vm.VmActor.PersistenceIdFor("a"), ids);
        Assert.Same(queries, PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier));
    }
}

/// <summary>A journal plugin that answers nothing for its configured <c>delay</c>, then hands everything to the <c>target</c> plugin: a slow start.</summary>
public sealed class LateStartJournal : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private readonly TimeSpan _delay;

    public LateStartJournal(Config config)
    {
        var target = config.GetString("target");
        _delay = config.GetTimeSpan("delay");
        Receive<string>(start => start == "start", _ =>
        {
            var journal = Persistence.Instance.Apply(Context.System).JournalFor(target);
            Become(() => ReceiveAny(message => journal.Forward(message)));
            Stash.UnstashAll();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    public IStash Stash { get; set; } = null!;

    protected override void PreStart() => Timers.StartSingleTimer("start", "start", _delay);

    public ITimerScheduler Timers { get; set; } = null!;
}
