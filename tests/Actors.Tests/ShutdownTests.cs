using HekiActors.Actors.Hosting;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Actors.Tests;

/// <summary>
/// A node its owner shuts down (<see cref="HekiHost.DisposeAsync"/>) lets every VM finish the journal work it asked for
/// (snapshot saves, deletions after a snapshot or a destroy), as a shard hand-off does: the journal is left as the VMs
/// last asked it to be, not as far as the store got before the actor system went away.
/// </summary>
public sealed class ShutdownTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("heki-shutdown-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_node_shut_down_by_its_owner_leaves_every_snapshot_and_deletion_its_VMs_asked_for()
    {
        var path = Path.Combine(_dir, "journal.db");
        string[] live = ["a", "b", "c"];
        await using (var host = HekiHost.Start(new HekiHostOptions(JournalKind.Sqlite, path, AkkaLogLevel: "OFF",
                         VmSettings: new VmActorSettings(SnapshotEvery: 1))))
        {
            foreach (var vm in live.Append("gone"))
                Assert.IsType<VmCreated>(await host.Ask(new CreateVm(vm, Guid.NewGuid(), VmConfig.FromMegabytes(16, 2))));
            for (ulong gfn = 0; gfn < 12; gfn++)
            {
                foreach (var vm in live)
                    Assert.Equal(0, ((HostReturn)await host.Ask(new SetPermissions(vm, Guid.NewGuid(), gfn, gfn + 1, HekiAttributes.Read))).Ret);
            }

            Assert.IsType<VmDestroyed>(await host.Ask(new DestroyVm("gone", Guid.NewGuid())));
        }

        await using var reader = JournalReader.Open(path);
        foreach (var vm in live)
        {
            var read = await reader.ReadAsync(vm);
            // A snapshot after every event, each deleting the ones before it: exactly the last one is left.
            Assert.Equal([read.HighestSequenceNr], read.Snapshots);
            Assert.Equal(13, read.HighestSequenceNr);
        }

        var gone = await reader.ReadAsync("gone");
        Assert.False(gone.Exists);
        Assert.Equal(1, gone.Events); // the destroy deleted everything before it
        Assert.Empty(gone.Snapshots);
    }
}
