using Akka.Actor;
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
    private sealed class Stream(string persistenceId)
    {
        public readonly string PersistenceId = persistenceId;
        // The events, oldest first, in an array of their own (no list object around it): a booted VM's ~13 events fit the
        // first 16 slots (issue 11).
        public Event[] Events = new Event[16];
        public int Count;
        public long Highest;
        public long DeletedTo;
        // The writer and manifest of the last event: shared by every event an incarnation writes, so kept once, not per event.
        public Writer? LastWriter;

        public void Add(in Event ev)
        {
            if (Count == Events.Length)
                Array.Resize(ref Events, Events.Length * 2);
            Events[Count++] = ev;
        }
    }

    /// <summary>What an incarnation's events have in common: its writer id and their manifest.</summary>
    private sealed record Writer(string Manifest, string WriterGuid);

    /// <summary>
    /// An event as stored: the fields of its <see cref="Persistent"/> in the stream's array itself, not an object of its own
    /// each (issue 11: a booted VM keeps ~13 events until the run ends, and every object it keeps is copied twice by the
    /// collector during a 10,000-VM boot). A replay builds the <see cref="Persistent"/> back, equal field for field.
    /// </summary>
    private readonly record struct Event(object Payload, long SequenceNr, Writer Writer, IActorRef? Sender, long Timestamp)
    {
        public Persistent ToPersistent(string persistenceId) =>
            new(Payload, SequenceNr, persistenceId, Writer.Manifest, isDeleted: false, Sender, Writer.WriterGuid, Timestamp);
    }

    /// <summary>Appends <paramref name="persistent"/> to its id's events (one writer per id: sequence numbers ascend).</summary>
    public void Append(IPersistentRepresentation persistent) => Append(persistent, persistent.Timestamp);

    /// <summary>Appends <paramref name="persistent"/> written at <paramref name="timestamp"/> (ticks) to its id's events.</summary>
    public void Append(IPersistentRepresentation persistent, long timestamp)
    {
        lock (_streams)
        {
            var stream = StreamOf(persistent.PersistenceId);
            var writer = stream.LastWriter is { } last && last.Manifest == persistent.Manifest && last.WriterGuid == persistent.WriterGuid
                ? last
                : stream.LastWriter = new Writer(persistent.Manifest, persistent.WriterGuid);
            stream.Add(new Event(persistent.Payload, persistent.SequenceNr, writer, persistent.Sender, timestamp));
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
            return stream.Events.Take(stream.Count).Where(e => e.SequenceNr >= first && e.SequenceNr <= to)
                .Take(max > int.MaxValue ? int.MaxValue : (int)max)
                .Select(e => (IPersistentRepresentation)e.ToPersistent(stream.PersistenceId)).ToArray();
        }
    }

    /// <summary>Deletes the id's events up to <paramref name="toSequenceNr"/> inclusive (a lower bound than before changes nothing).</summary>
    public void DeleteTo(string persistenceId, long toSequenceNr)
    {
        lock (_streams)
        {
            var stream = StreamOf(persistenceId);
            stream.DeletedTo = Math.Max(stream.DeletedTo, toSequenceNr);
            var kept = Array.FindIndex(stream.Events, 0, stream.Count, e => e.SequenceNr > stream.DeletedTo);
            var removed = kept < 0 ? stream.Count : kept;
            Array.Copy(stream.Events, removed, stream.Events, 0, stream.Count - removed);
            Array.Clear(stream.Events, stream.Count - removed, removed); // deleted events are dropped from memory
            stream.Count -= removed;
        }
    }

    private Stream StreamOf(string persistenceId)
    {
        if (!_streams.TryGetValue(persistenceId, out var stream))
            _streams.Add(persistenceId, stream = new Stream(persistenceId));
        return stream;
    }
}
