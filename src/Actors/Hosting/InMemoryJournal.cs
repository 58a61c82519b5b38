using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// The in-memory journal (<c>akka.persistence.journal.inmem</c>, HekiConfig): Akka's <c>MemoryJournal</c> contract over an
/// <see cref="InMemoryEventStore"/>, which keeps a list per persistence id instead of immutable collections copied on every
/// write (issue 11). A write is stored before it is answered; nothing is durable across processes.
/// </summary>
/// <remarks>
/// A write is answered from the journal's own turn, in the order <see cref="AsyncWriteJournal"/> answers (the batch's
/// <see cref="WriteMessagesSuccessful"/>, then each event's <see cref="WriteMessageSuccess"/> with its sender). Akka's
/// pipeline sent both through a task continuation and its resequencer actor, a top-level actor on the default dispatcher:
/// the .NET pool's threads, which waited for the OS to give them a core while the simulation's executor threads held both
/// (issue 11, PROTECT_MEMORY latency, fourth pass). The resequencer orders answers of writes that complete out of order; a
/// write stored in the turn that took it cannot. A subclass that writes its own way (a gate, injected faults: its own
/// <see cref="WriteMessagesAsync"/>) keeps Akka's pipeline, circuit breaker included.
/// </remarks>
public class InMemoryJournal : AsyncWriteJournal
{
    private readonly InMemoryEventStore _events = new();
    private readonly bool _answersInItsTurn;

    public InMemoryJournal()
    {
        var write = GetType().GetMethod(nameof(WriteMessagesAsync), BindingFlags.Instance | BindingFlags.NonPublic,
            [typeof(IEnumerable<AtomicWrite>), typeof(CancellationToken)]);
        _answersInItsTurn = write?.DeclaringType == typeof(InMemoryJournal);
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (!_answersInItsTurn || message is not WriteMessages write)
            return base.AroundReceive(receive, message);
        WriteAndAnswer(write);
        return true;
    }

    protected override Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        Store(messages);
        // Null: every write succeeded (AsyncWriteJournal's convention).
        return Task.FromResult<IImmutableList<Exception?>>(null!);
    }

    /// <summary>Stores a <see cref="WriteMessages"/> batch and answers it, as <see cref="AsyncWriteJournal"/> would but at once.</summary>
    private void WriteAndAnswer(WriteMessages write)
    {
        var actor = write.PersistentActor;
        AtomicWrite[]? prepared = null;
        Exception? rejected = null, failed = null;
        try
        {
            // Adapted and stripped of senders as the base class stores them; an adapter's exception rejects the batch.
            prepared = PreparePersistentBatch(write.Messages).ToArray();
        }
        catch (Exception e)
        {
            rejected = e;
        }

        try
        {
            if (prepared is not null)
                Store(prepared);
        }
        catch (Exception e)
        {
            // A bug (the store's append does not fail): answered as Akka answers a failed write, so the actor stops.
            failed = e;
        }

        actor.Tell(failed is null ? WriteMessagesSuccessful.Instance : new WriteMessagesFailed(failed, prepared!.Length), Self);
        foreach (var envelope in write.Messages)
        {
            if (envelope is not AtomicWrite atomic)
            {
                actor.Tell(new LoopMessageSuccess(envelope.Payload, write.ActorInstanceId), envelope.Sender);
                continue;
            }

            var payload = (IImmutableList<IPersistentRepresentation>)atomic.Payload;
            for (var i = 0; i < payload.Count; i++)
            {
                var persistent = payload[i];
                object answer = (rejected, failed) switch
                {
                    (null, null) => new WriteMessageSuccess(persistent, write.ActorInstanceId),
                    ({ } cause, _) => new WriteMessageRejected(persistent, cause, write.ActorInstanceId),
                    (_, { } cause) => new WriteMessageFailure(persistent, cause, write.ActorInstanceId),
                };
                actor.Tell(answer, persistent.Sender);
            }
        }
    }

    private void Store(IEnumerable<AtomicWrite> messages)
    {
        var timestamp = DateTime.UtcNow.Ticks;
        foreach (var write in messages)
        {
            // By index: a foreach over the interface boxed the immutable list's enumerator for every write.
            var payload = (IImmutableList<IPersistentRepresentation>)write.Payload;
            for (var i = 0; i < payload.Count; i++)
                _events.Append(payload[i], timestamp); // stored with the write's timestamp, as WithTimestamp would, without its copy
        }
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
