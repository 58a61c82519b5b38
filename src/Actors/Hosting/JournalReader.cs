using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using HekiActors.Actors.Vm;
using HekiActors.Memory.Vm;
using Microsoft.Data.Sqlite;

namespace HekiActors.Actors.Hosting;

/// <summary>What a journal holds for one VM id.</summary>
/// <param name="State">
/// The VM as its actor would recover it (latest snapshot, then the events after it, through <see cref="VmCore.Evolve(VmState?, IVmEvent)"/>);
/// <see cref="VmSnapshot.Config"/> is null for a VM that was destroyed (its journal keeps the destroy).
/// </param>
/// <param name="Events">Events stored for the VM (a destroy deletes the ones before it).</param>
/// <param name="HighestSequenceNr">The sequence number of its last stored event (0: none).</param>
/// <param name="Snapshots">Sequence numbers of its stored snapshots, newest first.</param>
public sealed record JournaledVm(string VmId, VmSnapshot State, long Events, long HighestSequenceNr, IReadOnlyList<long> Snapshots)
{
    /// <summary>Whether the VM exists (created and not destroyed since).</summary>
    public bool Exists => State.Config is not null;
}

/// <summary>A journal whose contents cannot be turned back into VMs (an event or snapshot that cannot be read, or that does not follow its VM's state).</summary>
public sealed class JournalContentException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads the VMs of a SQLite journal with Akka.Persistence.Query (the SQL plugin's read journal: CurrentPersistenceIds,
/// CurrentEventsByPersistenceId) and the snapshot store, on an actor system of its own whose connections are read-only
/// (<c>Mode=ReadOnly</c>, no table creation): reading never changes the file. Each VM is rebuilt exactly as its actor
/// recovers, with the pure core's <see cref="VmCore.Evolve(VmState?, IVmEvent)"/>.
/// </summary>
/// <remarks>Give it a file that passed <see cref="SqliteJournal.CheckReadable"/> (see <see cref="JournalForReading"/>).</remarks>
public sealed class JournalReader : IAsyncDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the journal plugin may take to start (a loaded machine; the plugin's own bound is 5 s).</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly string VmPrefix = VmActor.PersistenceIdFor("");

    private readonly ActorSystem _system;
    private readonly bool _hasEvents;
    private readonly bool _hasSnapshots;
    private SqlReadJournal? _queries;

    private JournalReader(ActorSystem system, bool hasEvents, bool hasSnapshots)
    {
        _system = system;
        _hasEvents = hasEvents;
        _hasSnapshots = hasSnapshots;
    }

    /// <summary>Opens <paramref name="path"/> (an existing SQLite file; an empty one or one without tables holds no VMs).</summary>
    public static JournalReader Open(string path)
    {
        var full = Path.GetFullPath(path);
        var (hasEvents, hasSnapshots) = Tables(full);
        var connection = System.Text.Json.JsonSerializer.Serialize(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        var readOnly = ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal.sql { connection-string = {{connection}}, auto-initialize = off }
              snapshot-store.sql { connection-string = {{connection}}, auto-initialize = off }
              query.journal.sql {
                connection-string = {{connection}}
                provider-name = "SQLite.MS"
                write-plugin = "akka.persistence.journal.sql"
              }
            }
            """);
        var system = ActorSystem.Create("heki-journal", readOnly.WithFallback(HekiConfig.Build(JournalKind.Sqlite, full, "OFF")));
        return new JournalReader(system, hasEvents, hasSnapshots);
    }

    /// <summary>The ids of every VM the journal has events for (destroyed ones too), in ordinal order.</summary>
    public async Task<IReadOnlyList<string>> VmIdsAsync(CancellationToken cancellationToken = default)
    {
        if (!_hasEvents)
            return [];
        var ids = await Run((await QueriesAsync(cancellationToken).ConfigureAwait(false)).CurrentPersistenceIds(), cancellationToken).ConfigureAwait(false);
        return ids.Where(id => id.StartsWith(VmPrefix, StringComparison.Ordinal))
            .Select(id => id[VmPrefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Rebuilds VM <paramref name="vmId"/> from its latest snapshot and the events after it.</summary>
    /// <exception cref="JournalContentException">A snapshot or event cannot be read or does not follow the VM's state.</exception>
    public async Task<JournaledVm> ReadAsync(string vmId, CancellationToken cancellationToken = default)
    {
        var persistenceId = VmActor.PersistenceIdFor(vmId);
        var snapshots = await SnapshotsAsync(persistenceId, vmId, cancellationToken).ConfigureAwait(false);
        var state = snapshots.Latest is { } offered ? VmState.FromSnapshot(offered.State) : VmState.Initial();
        var from = snapshots.Latest?.SequenceNr ?? 0;
        long events = 0;
        long highest = 0;
        if (_hasEvents)
        {
            IReadOnlyList<EventEnvelope> envelopes;
            var queries = await QueriesAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                envelopes = await Run(queries.CurrentEventsByPersistenceId(persistenceId, 0, long.MaxValue), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new JournalContentException($"VM {vmId}: its events cannot be read: {e.Innermost().Message}", e);
            }

            foreach (var envelope in envelopes)
            {
                events++;
                highest = Math.Max(highest, envelope.SequenceNr);
                if (envelope.SequenceNr <= from)
                    continue;
                if (envelope.Event is not IVmEvent ev)
                    throw new JournalContentException($"VM {vmId}: event {envelope.SequenceNr} is not a VM event ({envelope.Event?.GetType().Name ?? "null"})");
                try
                {
                    state = VmCore.Evolve(state, ev);
                }
                catch (InvalidOperationException e)
                {
                    throw new JournalContentException($"VM {vmId}: event {envelope.SequenceNr} ({ev.GetType().Name}) does not follow its state: {e.Message}", e);
                }
            }
        }

        return new JournaledVm(vmId, state.ToSnapshot(), events, Math.Max(highest, from), snapshots.SequenceNrs);
    }

    /// <summary>The stored snapshots of one VM, newest first, and the newest itself (what recovery is offered).</summary>
    private async Task<(IReadOnlyList<long> SequenceNrs, (long SequenceNr, VmSnapshot State)? Latest)> SnapshotsAsync(string persistenceId,
        string vmId, CancellationToken cancellationToken)
    {
        if (!_hasSnapshots)
            return ([], null);
        var store = Persistence.Instance.Apply(_system).SnapshotStoreFor(null);
        var found = new List<long>();
        (long, VmSnapshot)? latest = null;
        // The store hands out the newest snapshot under a bound: lower the bound below each one found to count the rest.
        var below = long.MaxValue;
        while (below > 0)
        {
            object reply;
            try
            {
                reply = await store.Ask<object>(new LoadSnapshot(persistenceId, new SnapshotSelectionCriteria(below), long.MaxValue), AskTimeout,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                throw new JournalContentException($"VM {vmId}: the snapshot store did not answer within {AskTimeout.TotalSeconds:0} s");
            }

            switch (reply)
            {
                case LoadSnapshotResult { Snapshot: null }:
                    return (found, latest);
                case LoadSnapshotResult { Snapshot: { } selected }:
                    if (selected.Snapshot is not VmSnapshot snapshot)
                        throw new JournalContentException($"VM {vmId}: snapshot {selected.Metadata.SequenceNr} is not a VM snapshot ({selected.Snapshot?.GetType().Name ?? "null"})");
                    found.Add(selected.Metadata.SequenceNr);
                    latest ??= (selected.Metadata.SequenceNr, snapshot);
                    below = selected.Metadata.SequenceNr - 1;
                    break;
                case LoadSnapshotFailed failed:
                    throw new JournalContentException($"VM {vmId}: its snapshot cannot be read: {failed.Cause.Innermost().Message}", failed.Cause);
                default:
                    throw new JournalContentException($"VM {vmId}: the snapshot store answered {reply.GetType().Name}");
            }
        }

        return (found, latest);
    }

    private async Task<SqlReadJournal> QueriesAsync(CancellationToken cancellationToken)
    {
        try
        {
            return _queries ??= await SqlQueries.OpenAsync(_system, StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new JournalContentException($"it cannot be read: {e.Message}", e);
        }
    }

    private async Task<IReadOnlyList<T>> Run<T, TMat>(Source<T, TMat> source, CancellationToken cancellationToken)
    {
        var (kill, result) = source.ViaMaterialized(KillSwitches.Single<T>(), Keep.Right)
            .ToMaterialized(Sink.Seq<T>(), Keep.Both).Run(_system.Materializer());
        await using var abort = cancellationToken.Register(() => kill.Abort(new OperationCanceledException(cancellationToken)));
        return await result.ConfigureAwait(false);
    }

    /// <summary>Which of the journal's tables exist: an empty database, or one no journal was written to, holds no VMs.</summary>
    private static (bool Events, bool Snapshots) Tables(string full)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('journal', 'snapshot')";
        using var reader = command.ExecuteReader();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read())
            names.Add(reader.GetString(0));
        return (names.Contains("journal"), names.Contains("snapshot"));
    }


    public async ValueTask DisposeAsync()
    {
        await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
    }
}
