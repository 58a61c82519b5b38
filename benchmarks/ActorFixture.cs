using HekiActors.Actors.Hosting;
using HekiActors.Protocol;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Benchmarks;

/// <summary>
/// A running model for the actor benchmarks: one VM (1 GiB, 4 vCPUs, hardened, in-memory journal) laid out like
/// a guest kernel — text R-X immutable, rodata R-- immutable, data RW- — with vCPU 0's translations warmed.
/// </summary>
public sealed class ActorFixture : IAsyncDisposable
{
    public const string VmId = "bench";
    public const int Vcpus = 4;
    public const ulong MemoryMb = 1024;
    public const ulong TextStart = 0x1000, TextEnd = 0x1800;      // gfns
    public const ulong RodataEnd = 0x2000;
    public const ulong DataEnd = 0x20000;                          // 512 MiB of RW data
    public const ulong ToggleStart = 0x30000, ToggleEnd = 0x30200; // a range the round-trip benchmark flips RW <-> R

    private int _toggle;

    private ActorFixture(HekiHost host) => Host = host;

    public HekiHost Host { get; }

    public static ActorFixture Start()
    {
        var host = HekiHost.Start(new HekiHostOptions(AkkaLogLevel: "OFF", SystemName: "bench"));
        var fixture = new ActorFixture(host);
        fixture.Expect<VmCreated>(new CreateVm(VmId, Guid.NewGuid(), VmConfig.FromMegabytes(MemoryMb, Vcpus)));
        var layout = new[]
        {
            Range(TextStart, TextEnd, HekiAttributes.Read | HekiAttributes.Exec | HekiAttributes.Immutable),
            Range(TextEnd, RodataEnd, HekiAttributes.Read | HekiAttributes.Immutable),
            Range(RodataEnd, DataEnd, HekiAttributes.Read | HekiAttributes.Write),
        };
        var ret = fixture.Expect<HypercallDone>(new GuestProtectMemory(VmId, 0, Guid.NewGuid(), [layout], 0)).Ret;
        if (ret != 0)
            throw new InvalidOperationException($"layout protect failed with {ret}");
        return fixture;
    }

    public T Expect<T>(object request)
    {
        var reply = Host.Ask(request).GetAwaiter().GetResult();
        return reply is T typed ? typed : throw new InvalidOperationException($"expected {typeof(T).Name}, got {reply}");
    }

    /// <summary>Random gpas in the data run (one warm translation covers them all).</summary>
    public static ulong[] DataGpas(int count, int seed)
    {
        var random = new Random(seed);
        var gpas = new ulong[count];
        for (var i = 0; i < gpas.Length; i++)
            gpas[i] = ((ulong)random.NextInt64((long)RodataEnd, (long)DataEnd) << 12) + (uint)random.Next(4096);
        return gpas;
    }

    /// <summary>Random gpas in kernel text: writes there all fault.</summary>
    public static ulong[] TextGpas(int count, int seed)
    {
        var random = new Random(seed);
        var gpas = new ulong[count];
        for (var i = 0; i < gpas.Length; i++)
            gpas[i] = (ulong)random.NextInt64((long)TextStart, (long)TextEnd) << 12;
        return gpas;
    }

    public GuestAccessBatchDone RunBatch(ulong[] gpas, AccessKind[] kinds, int vcpu = 0) =>
        Expect<GuestAccessBatchDone>(new GuestAccessBatch(VmId, vcpu, gpas, kinds, null, ReportEach: false));

    /// <summary>One PROTECT_MEMORY from vCPU 0 that really changes the toggle range (RW and R alternately).</summary>
    public long ProtectRoundTrip()
    {
        var permissions = (_toggle++ & 1) == 0 ? HekiAttributes.Read : HekiAttributes.Read | HekiAttributes.Write;
        return Expect<HypercallDone>(new GuestProtectMemory(VmId, 0, Guid.NewGuid(),
            [[Range(ToggleStart, ToggleEnd, permissions)]], 0)).Ret;
    }

    /// <summary>Waits until the warning supervisor has handled every report sent so far.</summary>
    public void FlushWarnings() => Host.FlushWarnings().GetAwaiter().GetResult();

    public ValueTask DisposeAsync() => Host.DisposeAsync();

    private static MemoryRange Range(ulong startGfn, ulong endGfn, ulong permissions) =>
        new(startGfn << 12, endGfn << 12, permissions);
}
