using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using HekiActors.Vcpu.Scheduling;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// Akka's unbounded mailbox with a <see cref="CompactEnvelopeQueue"/> in place of its <c>ConcurrentQueue</c>: the same
/// FIFO semantics, no slots while the actor is idle (issue 11: ~1 KB an actor, and a booted VM has several). The default
/// mailbox of every HekiActors actor system (<see cref="HekiConfig"/>).
/// </summary>
public sealed class CompactMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<CompactMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactMessageQueue();
}

/// <summary>
/// The deque-based mailbox (what an actor with a stash needs: a VM entity, any persistent actor) on a
/// <see cref="CompactEnvelopeQueue"/>; Akka's wraps a <c>ConcurrentQueue</c>.
/// </summary>
public sealed class CompactDequeMailbox(Settings settings, Config config)
    : MailboxType(settings, config), IProducesMessageQueue<CompactDequeMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactDequeMessageQueue();
}

/// <summary>The queue of a <see cref="CompactMailbox"/>.</summary>
public sealed class CompactMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly CompactEnvelopeQueue _queue = new();

    public bool HasMessages => !_queue.IsEmpty;

    public int Count => _queue.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope) => _queue.Enqueue(envelope);

    public bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
            deadletters.Enqueue(owner, envelope);
    }
}

/// <summary>
/// The queue of a <see cref="CompactDequeMailbox"/>: Akka's deque wrapper (unstashed messages first, last pushed first) on a
/// compact queue, in one object, with the unstashed messages' slots made at the first unstash (issue 11: Akka's wrapper kept
/// a wrapped queue and an empty stack for every VM entity).
/// </summary>
public sealed class CompactDequeMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    private readonly CompactEnvelopeQueue _queue = new();
    // Only the owning actor prepends and dequeues (as in Akka's DequeWrapperMessageQueue): no lock.
    private Envelope[]? _prepended;
    private int _prependedCount;

    public bool HasMessages => _prependedCount > 0 || !_queue.IsEmpty;

    public int Count => _queue.Count + _prependedCount;

    public void Enqueue(IActorRef receiver, Envelope envelope) => _queue.Enqueue(envelope);

    public void EnqueueFirst(Envelope envelope)
    {
        if (_prepended is null || _prependedCount == _prepended.Length)
            Array.Resize(ref _prepended, Math.Max(4, _prependedCount * 2));
        _prepended[_prependedCount++] = envelope;
    }

    public bool TryDequeue(out Envelope envelope)
    {
        if (_prependedCount > 0)
        {
            envelope = _prepended![--_prependedCount];
            _prepended[_prependedCount] = default; // the message may be collected once handled
            return true;
        }

        return _queue.TryDequeue(out envelope);
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
            deadletters.Enqueue(owner, envelope);
    }
}
