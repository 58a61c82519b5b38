using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Vm;
using HekiActors.Protocol;
using HekiActors.Vcpu.Scheduling;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>
/// Mailboxes that hold no slots while their actor is idle (issue 11, docs/benchmarks.md "Boot at 10,000 and 100,000 VMs"):
/// the queue's FIFO order through growth and wrap-around, what an idle one keeps, and that every actor of a HekiActors
/// system gets one (a VM entity's deque too).
/// </summary>
public sealed class CompactMailboxTests(ITestOutputHelper output) : ActorTestBase(output)
{
    private static Envelope Message(int n) => new(n, ActorRefs.NoSender);

    [Fact]
    public void The_queue_gives_messages_in_the_order_they_came_through_growth_and_wrap_around()
    {
        var queue = new CompactEnvelopeQueue();
        var next = 0;
        var expected = 0;
        // Interleaved so the ring's head moves before each growth: growth must unwrap it in order.
        for (var round = 0; round < 200; round++)
        {
            for (var i = 0; i < 3; i++)
                queue.Enqueue(Message(next++));
            Assert.True(queue.TryDequeue(out var envelope));
            Assert.Equal(expected++, envelope.Message);
        }

        Assert.Equal(next - expected, queue.Count);
        while (queue.TryDequeue(out var envelope))
            Assert.Equal(expected++, envelope.Message);
        Assert.Equal(next, expected);
        Assert.True(queue.IsEmpty);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void An_idle_queue_holds_no_slots_and_a_drained_burst_gives_its_slots_back()
    {
        var queue = new CompactEnvelopeQueue();
        Assert.Equal(0, queue.Capacity);

        queue.Enqueue(Message(1));
        Assert.Equal(CompactEnvelopeQueue.InitialCapacity, queue.Capacity);
        Assert.True(queue.TryDequeue(out _));
        Assert.Equal(CompactEnvelopeQueue.InitialCapacity, queue.Capacity); // a small ring is kept for the next messages

        for (var i = 0; i < 1_000; i++)
            queue.Enqueue(Message(i));
        Assert.Equal(1_024, queue.Capacity);
        while (queue.TryDequeue(out _))
        {
        }

        Assert.Equal(0, queue.Capacity); // a burst's ring is not kept
    }

    [Fact]
    public void An_idle_queue_costs_a_hundred_bytes_not_a_kilobyte()
    {
        // Akka's ConcurrentQueue-based queue: ~1,060 bytes (its first segment has 32 slots).
        const int queues = 1_000;
        var keep = new CompactEnvelopeQueue[queues];
        keep[0] = new CompactEnvelopeQueue(); // type loading
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < queues; i++)
            keep[i] = new CompactEnvelopeQueue();
        var perQueue = (GC.GetAllocatedBytesForCurrentThread() - before) / queues;
        Assert.True(perQueue <= 100, $"an idle queue allocates {perQueue} bytes (guard: 100)");
    }

    [Fact]
    public async Task Every_actor_of_the_system_gets_a_compact_mailbox_a_VM_entity_a_compact_deque()
    {
        CreateVm("a");
        var vm = await Sys.ActorSelection("/user/vms/vm-a").ResolveOne(Timeout);
        Assert.IsType<CompactDequeMessageQueue>(QueueOf(vm));
        Assert.IsType<CompactDequeMessageQueue>(QueueOf(Vms)); // the VM parent stashes too
        Assert.IsType<CompactMessageQueue>(QueueOf(Warnings));
        // And they work: the VM answers through its own.
        Assert.IsType<VmStatus>(Request(new GetVmStatus("a")));
    }

    private static IMessageQueue QueueOf(IActorRef actor) => ((ActorCell)((ActorRefWithCell)actor).Underlying).Mailbox!.MessageQueue;
}
