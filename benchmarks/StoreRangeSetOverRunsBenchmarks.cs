// Last result (2026-11-25, run 5 of docs/benchmarks.md, 2-core AMD EPYC VM, .NET 10.0.12; medians per call):
// | Method        | Profile  | Median   | Reference (same run) / this |
// |-------------- |--------- |---------:|----------------------------:|
// | StoreOverRuns | Hardened | 2.715 us |                        553x |
// | StoreOverRuns | HekiV2   | 2.820 us |                        556x |
// Warm (StoreRangeSetWarmHarness): 700 ns hardened, 688 ns heki-v2.

using BenchmarkDotNet.Attributes;
using HekiActors.Memory;

namespace HekiActors.Benchmarks;

/// <summary>
/// The first kvm_permissions_set of the 262,144-page range on the 1,000-run map, i.e. over its ~250 runs, each
/// invocation on its own fresh clone (made outside the timed region, from a pool refilled before every
/// iteration). Compare with the Reference row of <see cref="StoreRangeSetBenchmarks"/> from the same run: the
/// reference loops over every page whatever runs the range holds.
/// </summary>
public abstract class StoreRangeSetOverRunsBase
{
    private VmMemoryAttributes _pristine = null!;
    private VmMemoryAttributes[] _pool = [];
    private int _next;

    [Params(HekiProfile.Hardened, HekiProfile.HekiV2)]
    public HekiProfile Profile { get; set; }

    /// <summary>Clones per iteration: equal to the job's invocation count, so every call sees the original runs.</summary>
    protected abstract int PoolSize { get; }

    [GlobalSetup]
    public void Setup()
    {
        _pristine = StoreFixture.BuildStore(Profile);
        _pool = new VmMemoryAttributes[PoolSize];
        Refill();
        if (StoreOverRuns() < StoreRangeSetBenchmarks.RangePages / 2)
            throw new InvalidOperationException("the range set over the runs changed too little");
    }

    [IterationSetup]
    public void Refill()
    {
        for (var i = 0; i < _pool.Length; i++)
            _pool[i] = _pristine.Clone();
        // Touch every clone so the warm variant really starts warm (the cold one's pool outgrows the caches).
        ulong sum = 0;
        foreach (var vm in _pool)
            foreach (var run in vm.Store.Runs)
                sum += run.Word;
        GC.KeepAlive(sum);
        _next = 0;
    }

    /// <summary>Sets RW on the range of a fresh 1,000-run store (some runs there lack RW, so heki-v2 applies it too).</summary>
    [Benchmark]
    public ulong StoreOverRuns()
    {
        var vm = _pool[_next];
        _next = (_next + 1) % _pool.Length;
        var result = vm.PermissionsSet(StoreRangeSetBenchmarks.RangeStart, StoreRangeSetBenchmarks.RangeEnd,
            HekiAttributes.Read | HekiAttributes.Write, out var changed);
        if (result != Errno.Ok)
            throw new InvalidOperationException($"permissions_set failed with {result}");
        return changed.Length;
    }
}

/// <summary>Over-runs set on cache-cold stores: 2,048 clones per iteration, far more than the caches hold.</summary>
[SimpleJob(warmupCount: 3, iterationCount: 15, invocationCount: Invocations)]
[MemoryDiagnoser]
[MedianColumn]
public class StoreRangeSetOverRunsBenchmarks : StoreRangeSetOverRunsBase
{
    private const int Invocations = 2_048;

    protected override int PoolSize => Invocations;
}
