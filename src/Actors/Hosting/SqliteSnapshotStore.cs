using Akka.Persistence;
using Akka.Persistence.Sql.Snapshot;
using Config = Akka.Configuration.Config;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// The SQLite journal's snapshot store: Akka.Persistence.Sql's, without a query for the recovery of an id that has no
/// snapshot (what <see cref="SqliteWriteJournal"/> does for events, for the same reason and under the same rule: the
/// file has one writer, so an id without a snapshot at the start, and not saved since, has none).
/// </summary>
public sealed class SqliteSnapshotStore : SqlSnapshotStore
{
    private readonly KnownIds _ids;

    public SqliteSnapshotStore(Config snapshotConfig) : base(snapshotConfig) =>
        _ids = new KnownIds(SqliteJournal.PersistenceIds(snapshotConfig.GetString("connection-string"), "snapshot"));

    protected override Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria,
        CancellationToken cancellationToken = default) =>
        _ids.MayHaveRows(persistenceId) ? base.LoadAsync(persistenceId, criteria, cancellationToken) : NoSnapshot;

    private static readonly Task<SelectedSnapshot?> NoSnapshot = Task.FromResult<SelectedSnapshot?>(null);

    protected override Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken = default)
    {
        _ids.Written(metadata.PersistenceId);
        return base.SaveAsync(metadata, snapshot, cancellationToken);
    }
}
