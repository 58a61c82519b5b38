using Akka.Actor;
using Akka.Persistence;
using Akka.TestKit;
using HekiActors.Actors.Hosting;
using HekiActors.Protocol;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Memory.Hypercalls;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using HekiActors.Memory.Vm;

namespace HekiActors.Actors.Tests;

/// <summary>A VM or vCPU that throws, or a whole host that stops, loses no acknowledged change.</summary>
public class SupervisionTests(ITestOutputHelper output) : ActorTestBase(output)
{
    private void CrashVmAndWait(string vmId) =>
        EventFilter.Exception<VmCrashException>().ExpectOne(() => Vms.Tell(new CrashVm(vmId, "test")));

    private void CrashVcpuAndWait(string vmId, int vcpu) =>
        EventFilter.Exception<VcpuCrashException>().ExpectOne(() => Vms.Tell(new CrashVcpu(vmId, vcpu, "test")));

    /// <summary>The state built by <see cref="BuildState"/>, checked through every interface.</summary>
    private void AssertStateInForce(string vmId)
    {
        Assert.Equal(R | X, Permissions(vmId, 0x10));
        Assert.Equal(R | I, Permissions(vmId, 0x20));
        Assert.Equal(7UL, Permissions(vmId, 0x30));
        var status = Status(vmId);
        Assert.Equal(Cr0Wp, status.Cr0Pins);
        Assert.Equal(Cr4Smep | Cr4Smap, status.Cr4Pins);
        Assert.Equal(Cr0Wp | Cr0Pe | Cr0Pg, ReadCr(vmId, 0, 0));
        Assert.Equal(Cr4Smep | Cr4Smap | Cr4Pae, ReadCr(vmId, 1, 4));
        Assert.Equal(0x5000UL, ReadCr(vmId, 1, 3));
        Assert.Equal(AccessResult.PageFault, Access(vmId, 1, Gpa(0x10), AccessKind.Write));
        Assert.Equal(AccessResult.PageFault, Access(vmId, 0, Gpa(0x20), AccessKind.Exec));
        Assert.Equal(AccessResult.Ok, Access(vmId, 0, Gpa(0x30), AccessKind.Write));
        Assert.Equal(Errno.EPERM, Protect(vmId, 0, Gfns(0x20, 0x21, R | W | X)));
        Assert.False(WriteCr(vmId, 0, 0, Cr0Pe | Cr0Pg));
        Assert.False(WriteCr(vmId, 1, 4, Cr4Smep));
        Assert.Equal(Cr0Wp | Cr0Pe | Cr0Pg, ReadCr(vmId, 0, 0));
    }

    /// <summary>Protections, pins and CR writes with <paramref name="between"/> run after each step.</summary>
    private void BuildState(string vmId, Action between)
    {
        Assert.Equal(AccessResult.Ok, Access(vmId, 1, Gpa(0x10), AccessKind.Write));
        between();
        Assert.Equal(0, Protect(vmId, 0, Gfns(0x10, 0x11, R | X)));
        between();
        Assert.True(WriteCr(vmId, 0, 0, Cr0Wp | Cr0Pe | Cr0Pg));
        between();
        Assert.Equal(0, LockCr(vmId, 1, 0, Cr0Wp));
        between();
        Assert.Equal(AccessResult.Ok, Access(vmId, 0, Gpa(0x20), AccessKind.Exec));
        between();
        Assert.Equal(0, LockCr(vmId, 0, 4, Cr4Smep));
        Assert.True(WriteCr(vmId, 1, 4, Cr4Smep | Cr4Smap | Cr4Pae));
        between();
        Assert.Equal(0, LockCr(vmId, 1, 4, Cr4Smap));
        between();
        Assert.Equal(0, Protect(vmId, 1, Gfns(0x20, 0x21, R | I), Gfns(0x30, 0x31, R)));
        between();
        Assert.Equal(0, SetPermissions(vmId, 0x30, 0x31, 0));
        Assert.True(WriteCr(vmId, 1, 3, 0x5000));
        between();
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void A_VM_that_throws_between_changes_keeps_every_acknowledged_change(HekiProfile profile)
    {
        CreateVm("a", vcpus: 2, profile: profile);
        BuildState("a", () => CrashVmAndWait("a"));
        AssertStateInForce("a");
        CrashVmAndWait("a");
        AssertStateInForce("a");
        Assert.Equal(["a"], VmIds());
    }

    [Fact]
    public void A_vCPU_that_throws_between_changes_keeps_its_registers_and_the_VMs_protections()
    {
        CreateVm("a", vcpus: 2);
        var turn = 0;
        BuildState("a", () => CrashVcpuAndWait("a", turn++ % 2));
        AssertStateInForce("a");
        CrashVcpuAndWait("a", 0);
        CrashVcpuAndWait("a", 1);
        AssertStateInForce("a");
    }

    [Fact]
    public void A_restarted_vCPU_acknowledges_a_shootdown_racing_its_crash()
    {
        CreateVm("a", vcpus: 3);
        for (var v = 0; v < 3; v++)
            Assert.Equal(AccessResult.Ok, Access("a", v, Gpa(0x10), AccessKind.Write));
        // No waiting: the crash and the protect's shootdown reach vCPU 2 in either order.
        Vms.Tell(new CrashVcpu("a", 2, "racing"));
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R)));
        Assert.Equal(AccessResult.PageFault, Access("a", 2, Gpa(0x10), AccessKind.Write));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));
    }

    [Fact]
    public void Requests_pipelined_around_crashes_are_applied_once_and_every_acknowledged_one_holds()
    {
        CreateVm("a", vcpus: 2);
        var requests = new List<(object Request, TestProbe Probe)>();
        for (var i = 0; i < 24; i++)
        {
            var vcpu = i % 2;
            var id = Guid.NewGuid();
            object request = (i % 3) switch
            {
                0 => new GuestProtectMemory("a", vcpu, id, [[Gfns(0x100 + (ulong)i, 0x101 + (ulong)i, R | X)]], 0),
                1 => new GuestWriteCr("a", vcpu, id, i / 3 == 3 ? 15 : 1 + i / 3, 0x1000 + (ulong)i),
                _ => new GuestLockCr("a", vcpu, id, 4, 1UL << (i % 2 == 0 ? 20 : 21), 0, 0),
            };
            var probe = CreateTestProbe();
            Vms.Tell(request, probe.Ref);
            requests.Add((request, probe));
            if (i % 4 == 3)
                Vms.Tell(i % 8 == 3 ? new CrashVm("a", "pipelined") : new CrashVcpu("a", vcpu, "pipelined"));
        }

        // Resend every request with its id: a retry is answered from the record, or applied if it was lost.
        var acknowledged = 0;
        foreach (var (request, probe) in requests)
        {
            var retry = Request(request);
            Assert.IsNotType<CommandRejected>(retry);
            if (probe.HasMessages)
            {
                acknowledged++;
                Assert.Equal(retry, probe.ReceiveOne(TimeSpan.Zero));
            }
        }

        Assert.True(acknowledged > 0, "no request was acknowledged before its resend");
        for (var i = 0; i < 24; i++)
        {
            switch (requests[i].Request)
            {
                case GuestProtectMemory:
                    Assert.Equal(R | X, Permissions("a", 0x100 + (ulong)i));
                    Assert.Equal(AccessResult.PageFault, Access("a", i % 2, Gpa(0x100 + (ulong)i), AccessKind.Write));
                    break;
                case GuestWriteCr write:
                    Assert.Equal(write.Value, ReadCr("a", write.Vcpu, write.Cr));
                    break;
            }
        }

        Assert.Equal(Cr4Smep | Cr4Smap, Status("a").Cr4Pins);
    }

    [Fact]
    public async Task A_new_host_on_the_same_SQLite_file_has_every_VM_protection_pin_and_CR()
    {
        var path = Path.Combine(Path.GetTempPath(), $"heki-actors-test-{Guid.NewGuid():N}.db");
        try
        {
            var options = new HekiHostOptions(Journal: JournalKind.Sqlite, SqlitePath: path, SystemName: "heki-sqlite",
                VmSettings: new VmActorSettings(SnapshotEvery: 5), Config: TestMode.Config);
            await using (var first = HekiHost.Start(options))
            {
                await Expect<VmCreated>(first, new CreateVm("a", Guid.NewGuid(), VmConfig.FromMegabytes(64, 2)));
                await Expect<VmCreated>(first, new CreateVm("b", Guid.NewGuid(), VmConfig.FromMegabytes(32, 3, privateMemory: true, profile: HekiProfile.HekiV2)));
                await Expect<VmCreated>(first, new CreateVm("c", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1)));
                Assert.Equal(0, (await Expect<HypercallDone>(first, new GuestProtectMemory("a", 0, Guid.NewGuid(), [[Gfns(0x10, 0x11, R | X), Gfns(0x20, 0x22, R | I)]], 0))).Ret);
                // More than SnapshotEvery changes on a, so its recovery starts from a snapshot.
                for (ulong i = 0; i < 7; i++)
                    Assert.Equal(0, (await Expect<HostReturn>(first, new SetPermissions("a", Guid.NewGuid(), 0x100 + i, 0x101 + i, R))).Ret);
                Assert.Equal(0, (await Expect<HypercallDone>(first, new GuestLockCr("a", 1, Guid.NewGuid(), 0, Cr0Wp, 0, 0))).Ret);
                Assert.True((await Expect<CrWriteDone>(first, new GuestWriteCr("a", 1, Guid.NewGuid(), 0, Cr0Wp | Cr0Pe))).Written);
                Assert.True((await Expect<CrWriteDone>(first, new GuestWriteCr("a", 0, Guid.NewGuid(), 3, 0xABC000))).Written);
                Assert.Equal(0, (await Expect<HypercallDone>(first, new GuestProtectMemory("b", 2, Guid.NewGuid(), [[Gfns(0x10, 0x11, W)]], 0))).Ret);
                Assert.Equal(0, (await Expect<HostReturn>(first, new SetMemoryAttributes("b", Guid.NewGuid(), Gpa(0x40), 0x2000, HekiAttributes.KvmPrivate, 0))).Ret);
                Assert.Equal(0, (await Expect<HypercallDone>(first, new GuestLockCr("b", 0, Guid.NewGuid(), 4, Cr4Smep, 0, 0))).Ret);
                Assert.True((await Expect<CrWriteDone>(first, new GuestWriteCr("b", 2, Guid.NewGuid(), 4, Cr4Smep | Cr4Pae))).Written);
                Assert.Equal(0, (await Expect<HypercallDone>(first, new GuestProtectMemory("c", 0, Guid.NewGuid(), [[Gfns(0x1, 0x2, R | I)]], 0))).Ret);
                await Expect<VmDestroyed>(first, new DestroyVm("c", Guid.NewGuid()));
            }

            await using (var second = HekiHost.Start(options))
            {
                Assert.Equal(["a", "b"], (await Expect<VmList>(second, ListVms.Instance)).VmIds);
                var a = await Expect<VmStatus>(second, new GetVmStatus("a"));
                Assert.Equal(2, a.Config.VcpuCount);
                Assert.Equal(Cr0Wp, a.Cr0Pins);
                var b = await Expect<VmStatus>(second, new GetVmStatus("b"));
                Assert.Equal(HekiProfile.HekiV2, b.Config.Profile);
                Assert.Equal(Cr4Smep, b.Cr4Pins);
                Assert.IsType<CommandRejected>(await second.Ask(new GetVmStatus("c")));

                Assert.Equal(R | X, (await Expect<PermissionsValue>(second, new GetPermissions("a", 0x10))).Attr);
                Assert.Equal(R | I, (await Expect<PermissionsValue>(second, new GetPermissions("a", 0x21))).Attr);
                for (ulong i = 0; i < 7; i++)
                    Assert.Equal(R, (await Expect<PermissionsValue>(second, new GetPermissions("a", 0x100 + i))).Attr);
                Assert.Equal(7UL, (await Expect<PermissionsValue>(second, new GetPermissions("a", 0x107))).Attr);
                Assert.Equal(Cr0Wp | Cr0Pe, (await Expect<CrValue>(second, new GuestReadCr("a", 1, 0))).Value);
                Assert.Equal(0xABC000UL, (await Expect<CrValue>(second, new GuestReadCr("a", 0, 3))).Value);
                Assert.False((await Expect<CrWriteDone>(second, new GuestWriteCr("a", 0, Guid.NewGuid(), 0, Cr0Pe))).Written);
                Assert.Equal(Errno.EPERM, (await Expect<HypercallDone>(second, new GuestProtectMemory("a", 0, Guid.NewGuid(), [[Gfns(0x20, 0x21, R | W | X)]], 0))).Ret);
                Assert.Equal(AccessResult.PageFault, (await Expect<GuestAccessDone>(second, new GuestAccess("a", 1, Gpa(0x10), AccessKind.Write, 0))).Result);

                Assert.Equal(W, (await Expect<PermissionsValue>(second, new GetPermissions("b", 0x10))).Attr);
                Assert.Equal(HekiAttributes.KvmPrivate, (await Expect<AttributesValue>(second, new GetMemoryAttributes("b", 0x41))).Word);
                Assert.Equal(Cr4Smep | Cr4Pae, (await Expect<CrValue>(second, new GuestReadCr("b", 2, 4))).Value);
                Assert.False((await Expect<CrWriteDone>(second, new GuestWriteCr("b", 2, Guid.NewGuid(), 4, Cr4Pae))).Written);

                // The destroyed VM's id starts fresh.
                await Expect<VmCreated>(second, new CreateVm("c", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1)));
                Assert.Equal(7UL, (await Expect<PermissionsValue>(second, new GetPermissions("c", 0x1))).Attr);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TryDelete(path);
        }
    }

    [Fact]
    public async Task A_VM_that_crashes_on_a_new_SQLite_file_recovers_every_change_it_wrote_there()
    {
        // The SQLite journal answers the recovery of an id without rows at its start from memory (SqliteWriteJournal):
        // an id written since must be read back from the file, events and snapshot.
        var path = Path.Combine(Path.GetTempPath(), $"heki-actors-test-{Guid.NewGuid():N}.db");
        try
        {
            var options = new HekiHostOptions(Journal: JournalKind.Sqlite, SqlitePath: path, SystemName: "heki-sqlite-crash",
                VmSettings: new VmActorSettings(SnapshotEvery: 5), Config: TestMode.Config);
            await using var host = HekiHost.Start(options);
            await Expect<VmCreated>(host, new CreateVm("a", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1)));
            Assert.Equal(0, (await Expect<HypercallDone>(host, new GuestProtectMemory("a", 0, Guid.NewGuid(), [[Gfns(0x20, 0x22, R | I)]], 0))).Ret);
            // More than SnapshotEvery changes, so the recovery starts from a snapshot taken in this run.
            for (ulong i = 0; i < 7; i++)
                Assert.Equal(0, (await Expect<HostReturn>(host, new SetPermissions("a", Guid.NewGuid(), 0x100 + i, 0x101 + i, R))).Ret);
            await Expect<VmCreated>(host, new CreateVm("c", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1)));
            Assert.Equal(0, (await Expect<HostReturn>(host, new SetPermissions("c", Guid.NewGuid(), 0x1, 0x2, R))).Ret);
            await Expect<VmDestroyed>(host, new DestroyVm("c", Guid.NewGuid()));

            var before = await Expect<VmStatus>(host, new GetVmStatus("a"));
            host.Vms.Tell(new CrashVm("a", "test"));
            Assert.Equal(before, await Expect<VmStatus>(host, new GetVmStatus("a")));
            Assert.Equal(R | I, (await Expect<PermissionsValue>(host, new GetPermissions("a", 0x21))).Attr);
            for (ulong i = 0; i < 7; i++)
                Assert.Equal(R, (await Expect<PermissionsValue>(host, new GetPermissions("a", 0x100 + i))).Attr);
            Assert.Equal(Errno.EPERM, (await Expect<HypercallDone>(host, new GuestProtectMemory("a", 0, Guid.NewGuid(), [[Gfns(0x20, 0x21, R | W | X)]], 0))).Ret);
            // The destroyed VM's id starts fresh, after its destroy, not at sequence number 1.
            await Expect<VmCreated>(host, new CreateVm("c", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1)));
            Assert.Equal(7UL, (await Expect<PermissionsValue>(host, new GetPermissions("c", 0x1))).Attr);
            Assert.True((await Expect<VmStatus>(host, new GetVmStatus("c"))).LastSequenceNr > 3);
            // The journal's warm-up wrote to a scratch database, never to the file.
            Assert.Equal(["vm-a", "vm-c"], SqliteJournal.PersistenceIds(SqliteJournal.ConnectionString(path), "journal", "snapshot")!.Order(StringComparer.Ordinal));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TryDelete(path);
        }
    }

    private static async Task<T> Expect<T>(HekiHost host, object request)
    {
        var reply = await host.Ask(request);
        return Assert.IsType<T>(reply);
    }

    private static void TryDelete(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>Snapshot recovery: a VM that snapshots every 5 events recovers the same state.</summary>
public class SnapshotRecoveryTests(ITestOutputHelper output) : ActorTestBase(output, new VmActorSettings(SnapshotEvery: 5))
{
    [Fact]
    public void A_VM_recovering_from_a_snapshot_and_later_events_has_every_change()
    {
        CreateVm("a", vcpus: 2, privateMemory: true);
        var first = Guid.NewGuid();
        Assert.Equal(0, ProtectList("a", 0, [[Gfns(0x10, 0x11, R | X)]], first));
        Assert.Equal(0, Protect("a", 1, Gfns(0x20, 0x22, R | I)));
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));
        Assert.True(WriteCr("a", 1, 0, Cr0Wp | Cr0Pe));
        Assert.Equal(0, SetMemoryAttributes("a", Gpa(0x40), 0x1000, HekiAttributes.KvmPrivate));
        Assert.Equal(0, LockCr("a", 1, 4, Cr4Smep));
        Assert.True(WriteCr("a", 0, 4, Cr4Smep | Cr4Pae));
        Assert.Equal(0, SetPermissions("a", 0x50, 0x58, W));

        // A snapshot exists (taken after the 5th event) and events follow it.
        var store = Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);
        AwaitAssert(() =>
        {
            var loaded = store.Ask<LoadSnapshotResult>(
                new LoadSnapshot(VmActor.PersistenceIdFor("a"), SnapshotSelectionCriteria.Latest, long.MaxValue), Timeout).GetAwaiter().GetResult();
            Assert.NotNull(loaded.Snapshot);
            Assert.IsType<VmSnapshot>(loaded.Snapshot.Snapshot);
            Assert.True(loaded.Snapshot.Metadata.SequenceNr >= 5);
            Assert.True(loaded.Snapshot.Metadata.SequenceNr < Status("a").LastSequenceNr);
        });

        EventFilter.Exception<VmCrashException>().ExpectOne(() => Vms.Tell(new CrashVm("a", "snapshot")));

        Assert.Equal(R | X, Permissions("a", 0x10));
        Assert.Equal(R | I, Permissions("a", 0x21));
        Assert.Equal(W, Permissions("a", 0x57));
        Assert.Equal(HekiAttributes.KvmPrivate, Attributes("a", 0x40));
        var status = Status("a");
        Assert.Equal(Cr0Wp, status.Cr0Pins);
        Assert.Equal(Cr4Smep, status.Cr4Pins);
        Assert.Equal(Cr0Wp | Cr0Pe, ReadCr("a", 1, 0));
        Assert.Equal(Cr4Smep | Cr4Pae, ReadCr("a", 0, 4));
        Assert.False(WriteCr("a", 1, 0, Cr0Pe));
        Assert.Equal(Errno.EPERM, Protect("a", 0, Gfns(0x20, 0x21, R)));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));
        // The answered-request record survived too: the first request's resend is not applied again.
        Assert.Equal(0, SetPermissions("a", 0x10, 0x11, R | W | X));
        Assert.Equal(0, ProtectList("a", 0, [[Gfns(0x10, 0x11, R | X)]], first));
        Assert.Equal(R | W | X, Permissions("a", 0x10));
    }

    [Fact]
    public void A_destroyed_VM_with_snapshots_is_recreated_fresh()
    {
        CreateVm("a");
        for (ulong i = 0; i < 12; i++)
            Assert.Equal(0, SetPermissions("a", 0x10 + i, 0x11 + i, R | I));
        Assert.Equal(new VmDestroyed("a"), Request(new DestroyVm("a", Guid.NewGuid())));
        CreateVm("a");
        Assert.Equal(7UL, Permissions("a", 0x10));
        Assert.Equal(0, SetPermissions("a", 0x10, 0x11, R));
        EventFilter.Exception<VmCrashException>().ExpectOne(() => Vms.Tell(new CrashVm("a", "after re-create")));
        Assert.Equal(R, Permissions("a", 0x10));
        Assert.Equal(7UL, Permissions("a", 0x15));
    }
}
