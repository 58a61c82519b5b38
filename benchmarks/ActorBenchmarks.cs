// Last result: see docs/benchmarks.md, "Actor model (issue 3)".

using BenchmarkDotNet.Attributes;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Benchmarks;

/// <summary>
/// Issue 3's per-access costs side by side in one run: a flat byte[] lookup (baseline), the store lookup, the
/// vCPU fast path (permitted accesses on a warm translation, submitted in batches), a violation (#PF injected,
/// counted, rate-limited by the supervisor), and a PROTECT_MEMORY round trip with 4 vCPUs (mean; the p50 comes
/// from <see cref="ProtectRoundTripHarness"/>).
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
[MemoryDiagnoser]
[MedianColumn]
public class ActorBenchmarks
{
    private const int Accesses = 65_536;
    private const int Violations = 4_096;

    private ActorFixture _fixture = null!;
    private byte[] _flat = [];
    private VmMemoryAttributes _store = null!;
    private ulong[] _dataGpas = [];
    private AccessKind[] _reads = [];
    private ulong[] _textGpas = [];
    private AccessKind[] _writes = [];

    [GlobalSetup]
    public void Setup()
    {
        _fixture = ActorFixture.Start();
        _dataGpas = ActorFixture.DataGpas(Accesses, seed: 7);
        _reads = Enumerable.Repeat(AccessKind.Read, Accesses).ToArray();
        _textGpas = ActorFixture.TextGpas(Violations, seed: 8);
        _writes = Enumerable.Repeat(AccessKind.Write, Violations).ToArray();

        // The same permissions as a flat array and as a bare store, for the two baselines.
        var pages = (int)(ActorFixture.MemoryMb * 256);
        _flat = new byte[pages];
        _store = new VmMemoryAttributes();
        _store.PermissionsSet(ActorFixture.TextStart, ActorFixture.TextEnd, 0xD, out _);
        _store.PermissionsSet(ActorFixture.TextEnd, ActorFixture.RodataEnd, 0x9, out _);
        _store.PermissionsSet(ActorFixture.RodataEnd, ActorFixture.DataEnd, 0x3, out _);
        for (var gfn = 0; gfn < pages; gfn++)
            _flat[gfn] = (byte)_store.PermissionsGet((ulong)gfn);

        // Warm: the first batch fills vCPU 0's translations; every later access is a fast-path hit.
        var warm = _fixture.RunBatch(_dataGpas, _reads);
        if (warm.Permitted != Accesses)
            throw new InvalidOperationException($"warm-up batch permitted {warm.Permitted} of {Accesses}");
        var faults = _fixture.RunBatch(_textGpas, _writes);
        if (faults.Faulted != Violations)
            throw new InvalidOperationException($"violation batch faulted {faults.Faulted} of {Violations}");
        _fixture.FlushWarnings();
        if (_fixture.ProtectRoundTrip() != 0)
            throw new InvalidOperationException("protect round trip failed");
    }

    [GlobalCleanup]
    public void Cleanup() => _fixture.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = Accesses)]
    public long FlatLookup()
    {
        var flat = _flat;
        long sum = 0;
        foreach (var gpa in _dataGpas)
            sum += flat[(int)(gpa >> 12)];
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Accesses)]
    public ulong StoreLookup()
    {
        ulong sum = 0;
        foreach (var gpa in _dataGpas)
            sum += _store.PermissionsGet(gpa >> 12);
        return sum;
    }

    /// <summary>Per access: one batch of 65,536 permitted reads through VM parent → VM → vCPU and back.</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public int VcpuFastPath() => _fixture.RunBatch(_dataGpas, _reads).Permitted;

    /// <summary>Per violation: 4,096 faulting writes, then wait until the supervisor has rate-limited every report.</summary>
    [Benchmark(OperationsPerInvoke = Violations)]
    public int Violation()
    {
        var done = _fixture.RunBatch(_textGpas, _writes);
        _fixture.FlushWarnings();
        return done.Faulted;
    }

    /// <summary>One PROTECT_MEMORY round trip (persist, shoot down 4 vCPUs, acknowledge), from outside the actor system.</summary>
    [Benchmark]
    public long ProtectRoundTrip() => _fixture.ProtectRoundTrip();
}
