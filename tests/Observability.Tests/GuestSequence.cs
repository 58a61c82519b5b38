using Akka.Actor;
using HekiActors.Actors.Hosting;
using HekiActors.Protocol;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Observability.Tests;

/// <summary>
/// A replay-like sequence that reaches every decision the telemetry records: a protect, accesses (permitted, a burst of
/// violations the rate limit partly suppresses, MMIO), an immutable rejection from the guest and from the host, a
/// second protect that shoots down cached translations, a CR pin and a blocked CR write.
/// </summary>
internal static class GuestSequence
{
    public const string VmId = "obs";

    /// <summary>Violations in the burst: more than the rate limit's 10, so some are suppressed.</summary>
    public const int Violations = 20;

    public const ulong Protected = 0x100;
    public const ulong ImmutablePage = 0x200;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static HekiHost StartHost() => HekiHost.Start(new HekiHostOptions(AkkaLogLevel: "OFF", SystemName: "heki-observability"));

    /// <param name="traceParent">The caller's span, which the first protect's hypercall span continues.</param>
    public static async Task RunAsync(HekiHost host, string? traceParent = null)
    {
        Assert.IsType<VmCreated>(await Ask(host, new CreateVm(VmId, Guid.NewGuid(), VmConfig.FromMegabytes(64, 2))));

        var protect = await Ask(host, new GuestProtectMemory(VmId, 0, Guid.NewGuid(),
            [[Gfns(Protected, Protected + 0x10, HekiAttributes.Read | HekiAttributes.Exec),
              Gfns(ImmutablePage, ImmutablePage + 1, HekiAttributes.Read | HekiAttributes.Immutable)]], 0, traceParent));
        Assert.Equal(Errno.Ok, Assert.IsType<HypercallDone>(protect).Ret);

        // vCPU 1 has no translation yet: its first access misses, and the fill carries the protect's change.
        var count = 2 + Violations;
        var gpas = new ulong[count];
        var kinds = new AccessKind[count];
        gpas[0] = Gpa(Protected);
        kinds[0] = AccessKind.Read;
        for (var i = 1; i <= Violations; i++)
        {
            gpas[i] = Gpa(Protected) + (ulong)i * 8;
            kinds[i] = AccessKind.Write;
        }

        gpas[count - 1] = Gpa(64 * VmConfig.PagesPerMiB + 1); // past guest memory: MMIO
        kinds[count - 1] = AccessKind.Read;
        var batch = Assert.IsType<GuestAccessBatchDone>(await Ask(host, new GuestAccessBatch(VmId, 1, gpas, kinds, null, false)));
        Assert.Equal((1, Violations, 1), (batch.Permitted, batch.Faulted, batch.Mmio));

        var relax = await Ask(host, new GuestProtectMemory(VmId, 0, Guid.NewGuid(),
            [[Gfns(ImmutablePage, ImmutablePage + 1, HekiAttributes.Read | HekiAttributes.Write)]], 0));
        Assert.Equal(Errno.EPERM, Assert.IsType<HypercallDone>(relax).Ret);
        var host1 = await Ask(host, new SetPermissions(VmId, Guid.NewGuid(), ImmutablePage, ImmutablePage + 1, HekiAttributes.DefaultPermissions));
        Assert.Equal(Errno.EPERM, Assert.IsType<HostReturn>(host1).Ret);

        // Narrows the run vCPU 1 cached: the shootdown drops it.
        var narrow = await Ask(host, new GuestProtectMemory(VmId, 0, Guid.NewGuid(), [[Gfns(Protected, Protected + 8, HekiAttributes.Read)]], 0));
        Assert.Equal(Errno.Ok, Assert.IsType<HypercallDone>(narrow).Ret);

        Assert.True(Assert.IsType<CrWriteDone>(await Ask(host, new GuestWriteCr(VmId, 0, Guid.NewGuid(), 0, CrPinning.Cr0Wp | 1))).Written);
        Assert.Equal(Errno.Ok, Assert.IsType<HypercallDone>(await Ask(host, new GuestLockCr(VmId, 0, Guid.NewGuid(), 0, CrPinning.Cr0Wp, 0, 0))).Ret);
        Assert.False(Assert.IsType<CrWriteDone>(await Ask(host, new GuestWriteCr(VmId, 0, Guid.NewGuid(), 0, 1))).Written);

        await host.FlushWarnings(Timeout);
    }

    private static Task<object> Ask(HekiHost host, object message) => host.Ask(message, Timeout);

    private static MemoryRange Gfns(ulong start, ulong end, ulong permissions) =>
        new(start << VmMemoryAttributes.PageShift, end << VmMemoryAttributes.PageShift, permissions);

    private static ulong Gpa(ulong gfn) => gfn << VmMemoryAttributes.PageShift;
}
