using Akka.Persistence;
using HekiActors.Actors.Hosting;

namespace HekiActors.Actors.Tests;

/// <summary>
/// The in-memory journal's store (issue 11): Akka's journal contract (replay ranges, deletions, the highest sequence
/// number surviving them), and what a VM's events cost it, counted in bytes allocated (exact, not timed).
/// </summary>
public sealed class InMemoryEventStoreTests
{
    private static Persistent Event(string id, long sequenceNr) => new($"event {sequenceNr}", sequenceNr, id);

    private static long[] SequenceNrs(IEnumerable<IPersistentRepresentation> events) => [.. events.Select(e => e.SequenceNr)];

    [Fact]
    public void A_replay_gives_the_ids_events_in_the_range_in_order_at_most_max()
    {
        var store = new InMemoryEventStore();
        foreach (var persistent in new[] { Event("a", 1), Event("a", 2), Event("a", 3), Event("b", 1), Event("a", 4), Event("a", 5) })
            store.Append(persistent);

        Assert.Equal([1, 2, 3, 4, 5], SequenceNrs(store.Read("a", 1, long.MaxValue, long.MaxValue)));
        Assert.Equal([2, 3, 4], SequenceNrs(store.Read("a", 2, 4, long.MaxValue)));
        Assert.Equal([2, 3], SequenceNrs(store.Read("a", 2, 5, 2)));
        Assert.Empty(store.Read("a", 2, 5, 0));
        Assert.Equal([1], SequenceNrs(store.Read("b", 0, long.MaxValue, long.MaxValue)));
        Assert.Empty(store.Read("c", 0, long.MaxValue, long.MaxValue));
        Assert.Equal(5, store.HighestSequenceNr("a"));
        Assert.Equal(0, store.HighestSequenceNr("c"));
    }

    [Fact]
    public void Deleted_events_are_not_replayed_and_the_highest_sequence_number_survives_their_deletion()
    {
        var store = new InMemoryEventStore();
        foreach (var persistent in new[] { Event("a", 1), Event("a", 2), Event("a", 3) })
            store.Append(persistent);

        store.DeleteTo("a", 2);
        Assert.Equal([3], SequenceNrs(store.Read("a", 0, long.MaxValue, long.MaxValue)));
        store.DeleteTo("a", 1); // a lower bound than before changes nothing
        Assert.Equal([3], SequenceNrs(store.Read("a", 0, long.MaxValue, long.MaxValue)));

        store.DeleteTo("a", long.MaxValue);
        Assert.Empty(store.Read("a", 0, long.MaxValue, long.MaxValue));
        Assert.Equal(3, store.HighestSequenceNr("a"));

        store.Append(Event("a", 4));
        Assert.Equal([4], SequenceNrs(store.Read("a", 0, long.MaxValue, long.MaxValue)));
        store.DeleteTo("b", 5); // an id with no events yet: its later events above the bound stay
        store.Append(Event("b", 6));
        Assert.Equal([6], SequenceNrs(store.Read("b", 0, long.MaxValue, long.MaxValue)));
    }

    /// <summary>
    /// A booted VM writes about 11 events (its creation, the boot PROTECT_MEMORY, two LOCK_CR_UPDATE and their CR writes). Akka's MemoryJournal copied a path of immutable tree nodes per event in two trees (about 20 KB a VM at
    /// 10,000 VMs, growing with the log's depth); the store appends the events' fields to the id's list (no object per event). The journal's configuration is ours.
    /// </summary>
    [Fact]
    public void A_booted_VMs_events_cost_the_store_a_few_hundred_bytes()
    {
        const int vms = 2_000;
        const long bytesPerVm = 1_024;
        var ids = Enumerable.Range(0, vms).Select(i => "vm-" + i).ToArray();
        var events = ids.SelectMany(id => Enumerable.Range(1, 11).Select(n => Event(id, n))).ToArray();
        var store = new InMemoryEventStore();
        store.Append(Event("warm-up", 1)); // type loading and statics are not the VMs'

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var persistent in events)
            store.Append(persistent);
        var perVm = (GC.GetAllocatedBytesForCurrentThread() - before) / vms;

        Assert.True(perVm <= bytesPerVm, $"a VM's 11 events allocate {perVm} bytes in the store (guard: {bytesPerVm})");
        Assert.Equal(11, store.Read(ids[^1], 0, long.MaxValue, long.MaxValue).Length);
        Assert.Equal(typeof(InMemoryJournal), Type.GetType(HekiConfig.Build(JournalKind.InMemory).GetString("akka.persistence.journal.inmem.class")));
    }
}
