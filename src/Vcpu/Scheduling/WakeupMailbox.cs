using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace HekiActors.Vcpu.Scheduling;

/// <summary>
/// The mailbox of a busy actor (a vCPU running a workload) on a <see cref="WakeupFirstExecutor"/>: messages from other actors
/// (a translation, a shootdown, a hypercall's answer) are taken before the actor's messages to itself (its next workload
/// chunk), and the first one to arrive moves the mailbox to the executor's wake-up queue, so it waits for one chunk at most
/// instead of a turn of every busy vCPU. Messages from others keep their order; so do the actor's own.
/// </summary>
public sealed class WakeupMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<WakeupMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new WakeupMessageQueue();
}

/// <summary>The queue of a <see cref="WakeupMailbox"/>: unstashed messages first, then others' messages, then the actor's own.</summary>
public sealed class WakeupMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    // Compact queues: a vCPU holds no slots while idle (issue 11: two ConcurrentQueues were ~2.1 KB a vCPU).
    private readonly CompactEnvelopeQueue _fromOthers = new();
    private readonly CompactEnvelopeQueue _fromSelf = new();
    // Unstashed messages, put back in front by the actor itself (only its own thread touches this).
    private readonly Stack<Envelope> _prepended = new();
    // Whether this turn on the executor has taken its message (see TryDequeue).
    private bool _takenThisTurn;

    /// <summary>Set by the executor the first time it runs this mailbox: told when a message from another actor arrives.</summary>
    internal volatile WakeupFirstExecutor.Entry? Entry;

    /// <summary>Whether a message from another actor (or an unstashed one) waits: the executor's wake-up queue then.</summary>
    public bool HasUrgent => _prepended.Count > 0 || !_fromOthers.IsEmpty;

    public bool HasMessages => _prepended.Count > 0 || !_fromOthers.IsEmpty || !_fromSelf.IsEmpty;

    public int Count => _prepended.Count + _fromOthers.Count + _fromSelf.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        if (envelope.Sender is { } sender && (ReferenceEquals(sender, receiver) || sender.Equals(receiver)))
        {
            _fromSelf.Enqueue(envelope);
            return;
        }

        _fromOthers.Enqueue(envelope);
        Entry?.Wake();
    }

    public void EnqueueFirst(Envelope envelope) => _prepended.Push(envelope);

    /// <summary>
    /// One message a turn on the executor. Without this limit a mailbox run handled two messages where two waited, even at
    /// <c>throughput = 1</c> (measured, issue 11 third pass): a turn a translation fill woke went on with the vCPU's own
    /// next chunk, so every fill queued behind it waited for that chunk too. Refusing a second message ends the run, and
    /// Akka schedules the mailbox again (it has messages): busy, or woken if another actor's message waits. Off the
    /// executor (no <see cref="Entry"/> bound yet), no limit.
    /// </summary>
    public bool TryDequeue(out Envelope envelope)
    {
        if (_takenThisTurn && Entry is not null)
        {
            envelope = default;
            return false;
        }

        _takenThisTurn = Take(out envelope);
        return _takenThisTurn;
    }

    /// <summary>The executor starts a turn of this mailbox (only the thread that runs the turn touches the flag).</summary>
    internal void StartTurn() => _takenThisTurn = false;

    private bool Take(out Envelope envelope)
    {
        if (_prepended.Count > 0)
        {
            envelope = _prepended.Pop();
            return true;
        }

        return _fromOthers.TryDequeue(out envelope) || _fromSelf.TryDequeue(out envelope);
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (Take(out var envelope))
            deadletters.Enqueue(owner, envelope);
    }
}
