using Akka.TestKit;
using HekiActors.Memory;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>
/// Translation misses are answered while a change is being written to the journal, from the last durable state
/// (VmActor's remarks): a relaxation is not visible before it is durable, and a tightening is not acknowledged
/// while a vCPU can still use a translation handed out during the write.
/// </summary>
[Collection(nameof(GatedJournal))]
public sealed class TranslationDuringWriteTests(ITestOutputHelper output) : ActorTestBase(output, config: GatedJournal.Config), IDisposable
{
    private const ulong Page = 0x20;

    [Fact]
    public void A_miss_during_a_relaxing_write_is_answered_from_the_durable_state_and_cannot_use_the_relaxation()
    {
        CreateVm("a");
        Assert.Equal(0, Protect("a", 0, Gfns(Page, Page + 1, R | X)));
        var set = CreateTestProbe();

        GatedJournal.Close();
        Vms.Tell(new SetPermissions("a", Guid.NewGuid(), Page, Page + 1, R | W | X), set.Ref);

        // The miss is served while the write waits, and from the state before it: the write still faults.
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(Page), AccessKind.Write));
        Assert.False(set.HasMessages);

        GatedJournal.Open();
        Assert.Equal(0, set.ExpectMsg<HostReturn>(Timeout).Ret);
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(Page), AccessKind.Write));
    }

    [Fact]
    public void A_tightening_write_is_acknowledged_only_after_translations_handed_out_during_it_are_dropped()
    {
        CreateVm("a");
        Assert.Equal(AccessResult.Ok, Access("a", 0, Gpa(Page), AccessKind.Write));
        var set = CreateTestProbe();

        GatedJournal.Close();
        Vms.Tell(new SetPermissions("a", Guid.NewGuid(), Page, Page + 1, R), set.Ref);

        // Not acknowledged yet: the old translation (vCPU 0) and one filled during the write (vCPU 1) still allow it.
        Assert.Equal(AccessResult.Ok, Access("a", 0, Gpa(Page), AccessKind.Write));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(Page), AccessKind.Write));
        Assert.False(set.HasMessages);

        GatedJournal.Open();
        Assert.Equal(0, set.ExpectMsg<HostReturn>(Timeout).Ret);
        // Once acknowledged, no vCPU completes the forbidden write.
        Assert.Equal(AccessResult.PageFault, Access("a", 0, Gpa(Page), AccessKind.Write));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(Page), AccessKind.Write));
    }

    [Fact]
    public void A_second_change_waits_for_the_first_while_reads_go_on()
    {
        CreateVm("a");
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        GatedJournal.Close();
        Vms.Tell(new SetPermissions("a", Guid.NewGuid(), Page, Page + 1, R), first.Ref);
        Vms.Tell(new SetPermissions("a", Guid.NewGuid(), Page, Page + 1, R | I), second.Ref);
        Assert.Equal(HekiAttributes.DefaultPermissions, Permissions("a", Page));
        Assert.False(first.HasMessages || second.HasMessages);

        GatedJournal.Open();
        Assert.Equal(0, first.ExpectMsg<HostReturn>(Timeout).Ret);
        Assert.Equal(0, second.ExpectMsg<HostReturn>(Timeout).Ret);
        Assert.Equal(R | I, Permissions("a", Page));
    }

    public new void Dispose()
    {
        GatedJournal.Open();
        base.Dispose();
    }
}

[CollectionDefinition(nameof(GatedJournal), DisableParallelization = true)]
public sealed class GatedJournalCollection;
