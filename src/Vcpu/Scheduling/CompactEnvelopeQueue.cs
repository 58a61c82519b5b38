using Akka.Actor;

namespace HekiActors.Vcpu.Scheduling;

/// <summary>
/// A mailbox's FIFO of envelopes (many senders, one actor taking them) that holds no slots until its first message: a ring
/// grown by doubling from <see cref="InitialCapacity"/>, and dropped once drained if it grew past <see cref="KeptCapacity"/>.
/// </summary>
/// <remarks>
/// Akka's unbounded mailboxes use a <c>ConcurrentQueue</c>, whose first segment is 32 slots (≈ 1 KB with its segment)
/// however idle the actor: six queues a booted VM (the VM's, its guest's, two per vCPU) were ~6.4 KB of a VM's ~26 KB
/// of heap, 64 MB at 10,000 VMs (issue 11, docs/benchmarks.md). Here an idle queue is one small object. A lock guards
/// each operation: an actor's messages are a few per turn, never per simulated access, and the lock is uncontended but
/// for the moments a sender and the actor meet. The lock is the queue itself (only its mailbox holds it): a separate lock
/// object was six objects a booted VM.
/// </remarks>
public sealed class CompactEnvelopeQueue
{
    /// <summary>Slots allocated by the first message.</summary>
    public const int InitialCapacity = 4;

    /// <summary>
    /// A drained ring up to this size (4 KB) is kept for the next messages; a larger one (a burst) is dropped. An actor of
    /// a VM rarely holds more than a few messages; the shared ones (the journal, the warning supervisor, the VM parent)
    /// drain bursts of tens all the time, and dropping their rings at 32 slots made ~3 KB of garbage a VM's boot.
    /// </summary>
    public const int KeptCapacity = 256;

    private Envelope[]? _slots;
    private int _head;
    private volatile int _count;

    /// <summary>Whether no message waits (read without the lock, as Akka reads its queues).</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>Messages waiting.</summary>
    public int Count => _count;

    /// <summary>The slots held now (0 while none were ever needed, or after a burst drained): for the allocation tests.</summary>
    public int Capacity => _slots?.Length ?? 0;

    public void Enqueue(Envelope envelope)
    {
        lock (this)
        {
            var slots = _slots;
            if (slots is null || _count == slots.Length)
                slots = Grow();
            slots[(_head + _count) & (slots.Length - 1)] = envelope;
            _count++;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        if (_count == 0)
        {
            envelope = default;
            return false;
        }

        lock (this)
        {
            var slots = _slots;
            if (_count == 0 || slots is null)
            {
                envelope = default;
                return false;
            }

            envelope = slots[_head];
            slots[_head] = default; // the message may be collected once taken
            _head = (_head + 1) & (slots.Length - 1);
            if (--_count == 0)
            {
                _head = 0;
                if (slots.Length > KeptCapacity)
                    _slots = null;
            }

            return true;
        }
    }

    /// <summary>Doubles the ring (under the lock), its messages in order from slot 0.</summary>
    private Envelope[] Grow()
    {
        var old = _slots;
        var grown = new Envelope[old is null ? InitialCapacity : old.Length * 2];
        if (old is not null)
        {
            for (var i = 0; i < _count; i++)
                grown[i] = old[(_head + i) & (old.Length - 1)];
        }

        _head = 0;
        _slots = grown;
        return grown;
    }
}
