using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
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

    private readonly string _connectionString;

    private JournalReader(ActorSystem system, string connectionString, bool hasEvents, bool hasSnapshots)
    {
        _connectionString = connectionString;
        _system = system;
        _hasEvents = hasEvents;
        _hasSnapshots = hasSnapshots;
    }

    /// <summary>Opens <paramref name="path"/> (an existing SQLite file; an empty one or one without tables holds no VMs).</summary>
    public static JournalReader Open(string path)
    {
        var full = Path.GetFullPath(path);
        var (hasEvents, hasSnapshots) = Tables(full);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString();
        var connection = System.Text.Json.JsonSerializer.Serialize(connectionString);
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
        return new JournalReader(system, connectionString, hasEvents, hasSnapshots);
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
                throw new JournalContentException($"VM {Printable.Escape(vmId)}: {UnreadableEvent(persistenceId) ?? $"its events cannot be read: {ReadProblem(e)}"}", e);
            }

            foreach (var envelope in envelopes)
            {
                events++;
                highest = Math.Max(highest, envelope.SequenceNr);
                if (envelope.SequenceNr <= from)
                    continue;
                if (envelope.Event is not IVmEvent ev)
                    throw new JournalContentException($"VM {Printable.Escape(vmId)}: event {envelope.SequenceNr} is not a VM event ({envelope.Event?.GetType().Name ?? "null"})");
                if (VmEventCheck.Problem(ev, state.IsAlive ? state.Config : null) is { } problem)
                    throw new JournalContentException($"VM {Printable.Escape(vmId)}: event {envelope.SequenceNr} ({ev.GetType().Name}) is corrupt: {problem}");
                try
                {
                    state = VmCore.Evolve(state, ev);
                }
                catch (InvalidOperationException e)
                {
                    throw new JournalContentException($"VM {Printable.Escape(vmId)}: event {envelope.SequenceNr} ({ev.GetType().Name}) does not follow its state: {e.Message}", e);
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
                throw new JournalContentException($"VM {Printable.Escape(vmId)}: the snapshot store did not answer within {AskTimeout.TotalSeconds:0} s");
            }

            switch (reply)
            {
                case LoadSnapshotResult { Snapshot: null }:
                    return (found, latest);
                case LoadSnapshotResult { Snapshot: { } selected }:
                    if (selected.Snapshot is not VmSnapshot snapshot)
                        throw new JournalContentException($"VM {Printable.Escape(vmId)}: snapshot {selected.Metadata.SequenceNr} is not a VM snapshot ({selected.Snapshot?.GetType().Name ?? "null"})");
                    if (VmEventCheck.Problem(snapshot) is { } problem)
                        throw new JournalContentException($"VM {Printable.Escape(vmId)}: snapshot {selected.Metadata.SequenceNr} is corrupt: {problem}");
                    found.Add(selected.Metadata.SequenceNr);
                    latest ??= (selected.Metadata.SequenceNr, snapshot);
                    below = selected.Metadata.SequenceNr - 1;
                    break;
                case LoadSnapshotFailed failed:
                    throw new JournalContentException($"VM {Printable.Escape(vmId)}: its snapshot cannot be read: {ReadProblem(failed.Cause)}", failed.Cause);
                default:
                    throw new JournalContentException($"VM {Printable.Escape(vmId)}: the snapshot store answered {reply.GetType().Name}");
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

    /// <summary>
    /// The first event of <paramref name="persistenceId"/> that does not deserialize, said with its sequence number,
    /// manifest and field (the query stream fails without naming the row); null when every row reads.
    /// </summary>
    private string? UnreadableEvent(string persistenceId)
    {
        try
        {
            using var db = new SqliteConnection(_connectionString);
            db.Open();
            using var command = db.CreateCommand();
            command.CommandText = "SELECT sequence_number, message, manifest, identifier FROM journal WHERE persistence_id = $id AND deleted = 0 ORDER BY sequence_number";
            command.Parameters.AddWithValue("$id", persistenceId);
            using var reader = command.ExecuteReader();
            var serialization = _system.Serialization;
            while (reader.Read())
            {
                var manifest = reader.IsDBNull(2) ? "" : reader.GetString(2);
                var named = manifest.Length > 0 ? $" ({Printable.Escape(manifest)})" : "";
                if (reader.GetValue(1) is not byte[] message)
                    return $"event {reader.GetInt64(0)}{named} cannot be read: its message is not a blob";
                try
                {
                    serialization.Deserialize(message, reader.IsDBNull(3) ? 0 : reader.GetInt32(3), manifest);
                }
                catch (Exception e)
                {
                    return $"event {reader.GetInt64(0)}{named} cannot be read: {ReadProblem(e)}";
                }
            }
        }
        catch (SqliteException)
        {
            // The query stream's own error is said instead.
        }

        return null;
    }

    /// <summary>What a deserialization failure says, naming the field (System.Text.Json's path) rather than .NET's conversion text alone.</summary>
    private static string ReadProblem(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Text.Json.JsonException { Path: { Length: > 2 } path } json)
            {
                var what = json.Message.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal)
                    ? "a value of another type, or out of its type's range"
                    : json.Message.Split(" Path: ")[0].TrimEnd('.');
                return $"field {Printable.Escape(path[2..])}: {Printable.Escape(what)}";
            }
        }

        return Printable.Escape(e.Innermost().Message);
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
