using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>
/// The in-memory journal answers a write from its own turn (issue 11, PROTECT_MEMORY latency, fourth pass), with the
/// messages, order and senders Akka's <c>AsyncWriteJournal</c> answers with: the batch's success, then each event's in the
/// order written, after the events are stored (a replay right after finds them).
/// </summary>
public sealed class InMemoryJournalTests(ITestOutputHelper output) : ActorTestBase(output)
{
    private const int InstanceId = 7;

    private IActorRef Journal => Persistence.Instance.Apply(Sys).JournalFor(null);

    private static Persistent Event(string payload, long sequenceNr, IActorRef sender) =>
        new(payload, sequenceNr, "journal-test", sender: sender, writerGuid: "writer");

    [Fact]
    public void A_write_is_answered_batch_first_then_each_event_in_order_with_its_own_sender()
    {
        var actor = CreateTestProbe();
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        IPersistentEnvelope[] messages =
        [
            new AtomicWrite(ImmutableList.Create<IPersistentRepresentation>(Event("a", 1, first.Ref), Event("b", 2, second.Ref))),
            new AtomicWrite(Event("c", 3, first.Ref)),
        ];

        Journal.Tell(new WriteMessages(messages, actor.Ref, InstanceId));

        actor.ExpectMsg<WriteMessagesSuccessful>();
        Assert.Equal(Journal, actor.LastSender);
        Assert.Equal(("a", InstanceId), Success(actor.ExpectMsg<WriteMessageSuccess>()));
        Assert.Equal(first.Ref, actor.LastSender);
        Assert.Equal(("b", InstanceId), Success(actor.ExpectMsg<WriteMessageSuccess>()));
        Assert.Equal(second.Ref, actor.LastSender);
        Assert.Equal(("c", InstanceId), Success(actor.ExpectMsg<WriteMessageSuccess>()));
        Assert.Equal(first.Ref, actor.LastSender);
        actor.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Written_events_are_stored_without_their_senders_and_replayed_in_order()
    {
        var actor = CreateTestProbe();
        var sender = CreateTestProbe();
        IPersistentEnvelope[] messages =
            [new AtomicWrite(ImmutableList.Create<IPersistentRepresentation>(Event("a", 1, sender.Ref), Event("b", 2, sender.Ref)))];
        Journal.Tell(new WriteMessages(messages, actor.Ref, InstanceId));
        actor.ExpectMsg<WriteMessagesSuccessful>();
        actor.ExpectMsg<WriteMessageSuccess>();
        actor.ExpectMsg<WriteMessageSuccess>();

        Journal.Tell(new ReplayMessages(1, long.MaxValue, long.MaxValue, "journal-test", actor.Ref));

        var replayed = new[] { actor.ExpectMsg<ReplayedMessage>().Persistent, actor.ExpectMsg<ReplayedMessage>().Persistent };
        Assert.Equal(["a", "b"], replayed.Select(p => p.Payload));
        Assert.Equal([1L, 2L], replayed.Select(p => p.SequenceNr));
        // The journal keeps no actor reference (the base class strips them before storing, so must this path).
        Assert.All(replayed, p => Assert.True(p.Sender is null || p.Sender.IsNobody()));
        Assert.Equal(2, actor.ExpectMsg<RecoverySuccess>().HighestSequenceNr);
    }

    private static (object Payload, int InstanceId) Success(WriteMessageSuccess success) => (success.Persistent.Payload, success.ActorInstanceId);
}
