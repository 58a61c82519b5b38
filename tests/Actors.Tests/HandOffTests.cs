using Akka.Actor;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>
/// The hand-off Cluster.Sharding sends a VM entity (<see cref="StopVmEntity"/>) when its shard moves: a change in
/// flight is answered before the entity stops, and the entity started again for the same VM id recovers it.
/// </summary>
[Collection(nameof(GatedJournal))]
public sealed class HandOffTests(ITestOutputHelper output) : ActorTestBase(output, config: GatedJournal.Config), IDisposable
{
    private const ulong Page = 0x20;

    [Fact]
    public async Task A_hand_off_during_a_change_answers_the_change_then_stops_and_the_next_entity_recovers_it()
    {
        var entity = Sys.ActorOf(VmActor.Props("moving", Warnings, VmActorSettings.Default));
        Watch(entity);
        Assert.IsType<VmCreated>(await entity.Ask<object>(new CreateVm("moving", Guid.NewGuid(), VmConfig.FromMegabytes(16, 2)), Timeout));
        var set = CreateTestProbe();

        GatedJournal.Close();
        entity.Tell(new SetPermissions("moving", Guid.NewGuid(), Page, Page + 1, R | I), set.Ref);
        entity.Tell(StopVmEntity.Instance);
        // Still running while the change is written: a read is answered from the durable state.
        Assert.Equal(HekiAttributes.DefaultPermissions, (await entity.Ask<PermissionsValue>(new GetPermissions("moving", Page), Timeout)).Attr);
        Assert.False(set.HasMessages);

        GatedJournal.Open();
        Assert.Equal(0, set.ExpectMsg<HostReturn>(Timeout).Ret);
        ExpectTerminated(entity, Timeout);

        var next = Sys.ActorOf(VmActor.Props("moving", Warnings, VmActorSettings.Default));
        Assert.Equal(R | I, (await next.Ask<PermissionsValue>(new GetPermissions("moving", Page), Timeout)).Attr);
    }

    [Fact]
    public async Task An_idle_entity_stops_at_once_on_a_hand_off()
    {
        var entity = Sys.ActorOf(VmActor.Props("idle", Warnings, VmActorSettings.Default));
        Watch(entity);
        Assert.IsType<VmCreated>(await entity.Ask<object>(new CreateVm("idle", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1)), Timeout));
        entity.Tell(StopVmEntity.Instance);
        ExpectTerminated(entity, Timeout);
    }

    public new void Dispose()
    {
        GatedJournal.Open();
        base.Dispose();
    }
}
