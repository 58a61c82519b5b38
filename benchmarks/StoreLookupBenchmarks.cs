// Last result (2026-11-25, run 5 of docs/benchmarks.md, 2-core AMD EPYC VM, .NET 10.0.12; medians, ns per lookup):
// | Method          | Median     | Ratio (medians) |
// |---------------- |-----------:|----------------:|
// | FlatArray       |  0.4177 ns |            1.00 |
// | Reference       | 11.4770 ns |           27.48 |
// | Store           |  1.4185 ns |            3.40 |
// | StoreFragmented |  1.4788 ns |            3.54 |

using BenchmarkDotNet.Attributes;
using HekiActors.Memory;
using HekiActors.Memory.Reference;

namespace HekiActors.Benchmarks;

/// <summary>Random kvm_permissions_get on the 1,000-run map: flat byte[] (baseline), per-gfn Dictionary, run store, fragmented run store.</summary>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
[MemoryDiagnoser]
[MedianColumn]
public class StoreLookupBenchmarks
{
    private const int Lookups = 16_384;

    private byte[] _flat = [];
    private ReferenceVmMemory _reference = null!;
    private VmMemoryAttributes _store = null!;
    private VmMemoryAttributes _fragmented = null!;
    private ulong[] _gfns = [];

    [GlobalSetup]
    public void Setup()
    {
        _flat = StoreFixture.BuildFlat();
        _reference = StoreFixture.BuildReference();
        _store = StoreFixture.BuildStore();
        _fragmented = StoreFixture.BuildFragmentedStore();
        _gfns = StoreFixture.RandomGfns(Lookups, StoreFixture.Seed + 2);
        foreach (var gfn in _gfns)
        {
            if (_reference.PermissionsGet(gfn) != _flat[gfn] || _store.PermissionsGet(gfn) != _flat[gfn])
                throw new InvalidOperationException($"models disagree at gfn {gfn}");
        }
    }

    /// <summary>The physical limit: one byte per page.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public ulong FlatArray()
    {
        var flat = _flat;
        var gfns = _gfns;
        var sum = 0UL;
        for (var i = 0; i < gfns.Length; i++)
            sum += flat[(int)gfns[i]];
        return sum;
    }

    /// <summary>The per-gfn Dictionary reference model.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public ulong Reference()
    {
        var reference = _reference;
        var gfns = _gfns;
        var sum = 0UL;
        for (var i = 0; i < gfns.Length; i++)
            sum += reference.PermissionsGet(gfns[i]);
        return sum;
    }

    /// <summary>The run store holding the 1,000-run map.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public ulong Store()
    {
        var store = _store;
        var gfns = _gfns;
        var sum = 0UL;
        for (var i = 0; i < gfns.Length; i++)
            sum += store.PermissionsGet(gfns[i]);
        return sum;
    }

    /// <summary>The same store after 200,000 random single-page changes.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public ulong StoreFragmented()
    {
        var store = _fragmented;
        var gfns = _gfns;
        var sum = 0UL;
        for (var i = 0; i < gfns.Length; i++)
            sum += store.PermissionsGet(gfns[i]);
        return sum;
    }
}
