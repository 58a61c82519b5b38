using HekiActors.Actors.Hosting;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.TestSupport;

namespace HekiActors.Actors.Tests;

/// <summary>
/// The PostgreSQL journal and snapshot store (a real server from Debian's binaries, on 127.0.0.1 with a free port):
/// what a VM acknowledged is there again after its node stopped and a new one started on the same database.
/// </summary>
public sealed class PostgresJournalTests(PostgresJournalTests.Server server) : IClassFixture<PostgresJournalTests.Server>
{
    private const ulong R = HekiAttributes.Read;
    private const ulong X = HekiAttributes.Exec;
    private const ulong I = HekiAttributes.Immutable;

    [Theory]
    [InlineData(0)] // events only
    [InlineData(1)] // a snapshot after every event
    public async Task An_acknowledged_protection_and_pin_survive_a_restart_on_PostgreSQL(int snapshotEvery)
    {
        var connection = server.Postgres.CreateDatabase($"restart_{snapshotEvery}");
        var options = new HekiHostOptions(JournalKind.PostgreSql, AkkaLogLevel: "OFF", PostgresConnection: connection,
            VmSettings: new VmActorSettings(SnapshotEvery: snapshotEvery));
        var kernelText = new MemoryRange(0x10UL << VmMemoryAttributes.PageShift, 0x14UL << VmMemoryAttributes.PageShift, R | X | I);
        await using (var node = await HekiHost.StartAsync(options))
        {
            Assert.IsType<VmCreated>(await node.Ask(new CreateVm("kernel", Guid.NewGuid(), VmConfig.FromMegabytes(16, 2))));
            Assert.Equal(0, ((HypercallDone)await node.Ask(new GuestProtectMemory("kernel", 0, Guid.NewGuid(), [[kernelText]], 0))).Ret);
            Assert.Equal(0, ((HypercallDone)await node.Ask(new GuestLockCr("kernel", 1, Guid.NewGuid(), 4, CrPinning.Cr4Smep, 0, 0))).Ret);
        }

        await using var restarted = await HekiHost.StartAsync(options);
        Assert.Equal(["kernel"], ((VmList)await restarted.Ask(ListVms.Instance)).VmIds);
        for (ulong gfn = 0x10; gfn < 0x14; gfn++)
            Assert.Equal(R | X | I, ((PermissionsValue)await restarted.Ask(new GetPermissions("kernel", gfn))).Attr);
        Assert.Equal(HekiAttributes.DefaultPermissions, ((PermissionsValue)await restarted.Ask(new GetPermissions("kernel", 0x14))).Attr);
        Assert.Equal(CrPinning.Cr4Smep, ((VmStatus)await restarted.Ask(new GetVmStatus("kernel"))).Cr4Pins & CrPinning.Cr4Smep);
        // Still immutable: the recovered VM refuses to change the page.
        Assert.Equal(Errno.EPERM, ((HostReturn)await restarted.Ask(new SetPermissions("kernel", Guid.NewGuid(), 0x10, 0x11, R))).Ret);
    }

    /// <summary>One server for the class; each test makes its own database.</summary>
    public sealed class Server : IDisposable
    {
        internal PostgresServer Postgres { get; } = PostgresServer.Start();

        public void Dispose() => Postgres.Dispose();
    }
}
