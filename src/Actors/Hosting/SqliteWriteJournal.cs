using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using Config = Akka.Configuration.Config;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// The SQLite journal's write journal: Akka.Persistence.Sql's, without a query for the recovery of an id that has no
/// events. Every recovery asks the journal for the id's highest sequence number (a read transaction of its own); a
/// simulation's boot recovers each of its new VMs once before creating it, and on a new file those 300 queries (and
/// the snapshot store's, <see cref="SqliteSnapshotStore"/>) took as long as the boot's writes (docs/benchmarks.md,
/// issue 11, "SQLite boot (sixth pass)"). The answer for such an id is known without asking: the file is written by
/// this journal alone (<see cref="JournalLock"/>), so an id that had no row when it started, and that it was not asked
/// to write since, has none (highest sequence number 0, as the query would say).
/// </summary>
/// <remarks>
/// As it starts it also runs its write path once on a scratch database (<see cref="SqliteWriteWarmUp"/>), so the first
/// VMs' writes do not pay for compiling it.
///
/// SQLite only: a PostgreSQL journal is shared by a cluster's nodes, where another node may have written the id since.
/// The ids with rows at the start are read once, as the plugin is made (one indexed query, before it opens the file
/// itself); if they cannot be read, every recovery asks the database as the plugin does. An id counts as written from the moment its write is handed to the
/// plugin, whether it then succeeds or not, so its next recovery asks too (and waits for that write, as the plugin does).
/// </remarks>
public sealed class SqliteWriteJournal : SqlWriteJournal
{
    private readonly KnownIds _ids;
    private readonly Config _config;

    public SqliteWriteJournal(Config journalConfig) : base(journalConfig)
    {
        _config = journalConfig;
        _ids = new KnownIds(SqliteJournal.PersistenceIds(journalConfig.GetString("connection-string"), "journal", "journal_metadata"));
    }

    protected override void PreStart()
    {
        base.PreStart();
        // A node that only reads a settled file (JournalReader: no table creation) writes nothing: no warm-up.
        if (!_config.GetBoolean("auto-initialize"))
            return;
        // The plugin starts (its tables) meanwhile; every request waits for both, in the order it came (one stash).
        var log = Context.GetLogger();
        SqliteWriteWarmUp.RunAsync(Context.System, _config, log).ContinueWith(warmUp =>
        {
            if (warmUp.Exception is { } failed)
                log.Warning("the journal's warm-up failed (its first writes will be slower): {0}", failed.GetBaseException().Message);
            return WarmedUp.Instance;
        }, TaskScheduler.Default).PipeTo(Self);
        BecomeStacked(WarmingUp);
    }

    private bool WarmingUp(object message)
    {
        if (message is not WarmedUp)
        {
            Stash.Stash();
            return true;
        }

        UnbecomeStacked();
        Stash.UnstashAll();
        return true;
    }

    private sealed class WarmedUp
    {
        public static readonly WarmedUp Instance = new();
    }

    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken = default) =>
        _ids.MayHaveRows(persistenceId) ? base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken) : NoRows;

    private static readonly Task<long> NoRows = Task.FromResult(0L);

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken = default)
    {
        var writes = messages as IReadOnlyCollection<AtomicWrite> ?? messages.ToList();
        foreach (var write in writes)
            _ids.Written(write.PersistenceId);
        return base.WriteMessagesAsync(writes, cancellationToken);
    }
}
