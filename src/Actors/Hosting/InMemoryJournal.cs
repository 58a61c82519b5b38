using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// The in-memory journal (<c>akka.persistence.journal.inmem</c>, HekiConfig): Akka's <c>MemoryJournal</c> contract over an
/// <see cref="InMemoryEventStore"/>, which keeps a list per persistence id instead of immutable collections copied on every
/// write (issue 11). A write is stored before its task completes; nothing is durable across processes.
/// </summary>
public class InMemoryJournal : AsyncWriteJournal
{
    private readonly InMemoryEventStore _events = new();

    protected override Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var timestamp = DateTime.UtcNow.Ticks;
        foreach (var write in messages)
        {
            // By index: a foreach over the interface boxed the immutable list's enumerator for every write.
            var payload = (IImmutableList<IPersistentRepresentation>)write.Payload;
            for (var i = 0; i < payload.Count; i++)
                _events.Append(payload[i], timestamp); // stored with the write's timestamp, as WithTimestamp would, without its copy
        }

        // Null: every write succeeded (AsyncWriteJournal's convention).
        return Task.FromResult<IImmutableList<Exception?>>(null!);
    }

    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken) =>
        Task.FromResult(_events.HighestSequenceNr(persistenceId));

    public override Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        // Read under the store's lock, replayed outside it: the callback runs the recovering actor's code.
        foreach (var persistent in _events.Read(persistenceId, fromSequenceNr, toSequenceNr, max))
            recoveryCallback(persistent);
        return Task.CompletedTask;
    }

    protected override Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken)
    {
        _events.DeleteTo(persistenceId, toSequenceNr);
        return Task.CompletedTask;
    }
}
