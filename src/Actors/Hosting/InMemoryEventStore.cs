using Akka.Persistence;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// What <see cref="InMemoryJournal"/> holds: each persistence id's events in a list of its own, oldest first. Akka's
/// <c>MemoryJournal</c> kept an immutable dictionary of immutable lists plus one immutable list of every event, so each
/// write copied a path of tree nodes in both, and two tree nodes stayed per event (docs/benchmarks.md, "Density at boot
/// (third pass)"); here a write appends to a list. Safe for several threads: each operation takes one lock.
/// </summary>
/// <remarks>
/// The journal contract (Akka.Persistence's AsyncWriteJournal): a replay gives the id's events from <c>from</c> to
/// <c>to</c>, at most <c>max</c>, in order, none at or below a deletion; the highest sequence number is the last one
/// written, deleted or not (it must survive deletions, or a recovered actor would reuse sequence numbers). Deleted
/// events are dropped from memory, not only hidden.
/// </remarks>
public sealed class InMemoryEventStore
{
    private readonly Dictionary<string, Stream> _streams = new(StringComparer.Ordinal);

    /// <summary>One persistence id's events, and what was written and deleted so far.</summary>
    private sealed class Stream
    {
        public readonly List<IPersistentRepresentation> Events = new(4);
        public long Highest;
        public long DeletedTo;
    }

    /// <summary>Appends <paramref name="persistent"/> to its id's events (one writer per id: sequence numbers ascend).</summary>
    public void Append(IPersistentRepresentation persistent)
    {
        lock (_streams)
        {
            var stream = StreamOf(persistent.PersistenceId);
            stream.Events.Add(persistent);
            stream.Highest = Math.Max(stream.Highest, persistent.SequenceNr);
        }
    }

    /// <summary>The highest sequence number ever written for the id (deleted or not); 0 if none.</summary>
    public long HighestSequenceNr(string persistenceId)
    {
        lock (_streams)
            return _streams.TryGetValue(persistenceId, out var stream) ? stream.Highest : 0L;
    }

    /// <summary>The id's events in [<paramref name="from"/>, <paramref name="to"/>] not deleted, oldest first, at most <paramref name="max"/>.</summary>
    public IPersistentRepresentation[] Read(string persistenceId, long from, long to, long max)
    {
        lock (_streams)
        {
            if (!_streams.TryGetValue(persistenceId, out var stream) || max <= 0)
                return [];
            var first = Math.Max(from, stream.DeletedTo + 1);
            return stream.Events.Where(e => e.SequenceNr >= first && e.SequenceNr <= to).Take(max > int.MaxValue ? int.MaxValue : (int)max).ToArray();
        }
    }

    /// <summary>Deletes the id's events up to <paramref name="toSequenceNr"/> inclusive (a lower bound than before changes nothing).</summary>
    public void DeleteTo(string persistenceId, long toSequenceNr)
    {
        lock (_streams)
        {
            var stream = StreamOf(persistenceId);
            stream.DeletedTo = Math.Max(stream.DeletedTo, toSequenceNr);
            var kept = stream.Events.FindIndex(e => e.SequenceNr > stream.DeletedTo);
            stream.Events.RemoveRange(0, kept < 0 ? stream.Events.Count : kept);
        }
    }

    private Stream StreamOf(string persistenceId)
    {
        if (!_streams.TryGetValue(persistenceId, out var stream))
            _streams.Add(persistenceId, stream = new Stream());
        return stream;
    }
}
