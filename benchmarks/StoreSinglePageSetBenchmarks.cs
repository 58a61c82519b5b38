// Last result (2026-11-25, run 5 of docs/benchmarks.md, 2-core AMD EPYC VM, .NET 10.0.12; medians, ns per set):
// | Method          | Median    | Ratio (medians) |
// |---------------- |----------:|----------------:|
// | Store           |  73.44 ns |            1.00 |
// | StoreFragmented | 113.99 ns |            1.55 |
// | Reference       |  12.17 ns |            0.17 |

using BenchmarkDotNet.Attributes;
using HekiActors.Memory;
using HekiActors.Memory.Reference;

namespace HekiActors.Benchmarks;

/// <summary>Random single-page kvm_permissions_set: run store on the 1,000-run map (baseline), fragmented run store, per-gfn Dictionary.</summary>
/// <remarks>
/// Each invocation is one pass over <see cref="Sets"/> distinct random pages; passes alternate between setting
/// every page to a value different from its original one and setting it back, so every call really changes
/// its page and the store oscillates between its starting state and at most 2 × <see cref="Sets"/> more
/// boundaries.
/// </remarks>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
[MemoryDiagnoser]
[MedianColumn]
public class StoreSinglePageSetBenchmarks
{
    private const int Sets = 256;

    private SinglePagePlan _store = null!;
    private SinglePagePlan _fragmented = null!;
    private ReferenceVmMemory _reference = null!;
    private ulong[] _referenceOriginal = [];
    private ulong[] _referenceOther = [];
    private ulong[] _gfns = [];
    private bool _referenceToggle;

    [GlobalSetup]
    public void Setup()
    {
        _gfns = StoreFixture.DistinctRandomGfns(Sets, StoreFixture.Seed + 3);
        _store = new SinglePagePlan(StoreFixture.BuildStore(), _gfns);
        _fragmented = new SinglePagePlan(StoreFixture.BuildFragmentedStore(), _gfns);
        _reference = StoreFixture.BuildReference();
        _referenceOriginal = _gfns.Select(_reference.PermissionsGet).ToArray();
        _referenceOther = _referenceOriginal.Select(SinglePagePlan.Other).ToArray();

        // Prove every call changes its page (two passes leave each plan as it was).
        for (var i = 0; i < 2; i++)
        {
            if (_store.Pass() != Sets || _fragmented.Pass() != Sets || Reference() != Sets)
                throw new InvalidOperationException("a single-page set changed nothing");
        }
    }

    /// <summary>The run store holding the 1,000-run map.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Sets)]
    public int Store() => _store.Pass();

    /// <summary>The same store after 200,000 random single-page changes.</summary>
    [Benchmark(OperationsPerInvoke = Sets)]
    public int StoreFragmented() => _fragmented.Pass();

    /// <summary>The per-gfn Dictionary reference model on the 1,000-run map.</summary>
    [Benchmark(OperationsPerInvoke = Sets)]
    public int Reference()
    {
        _referenceToggle = !_referenceToggle;
        var values = _referenceToggle ? _referenceOther : _referenceOriginal;
        var reference = _reference;
        var gfns = _gfns;
        var changedPages = 0;
        for (var i = 0; i < gfns.Length; i++)
        {
            reference.PermissionsSet(gfns[i], gfns[i] + 1, values[i], out var changed);
            changedPages += (int)changed.Length;
        }

        return changedPages;
    }

    /// <summary>One store with its pages and their two alternating values.</summary>
    private sealed class SinglePagePlan
    {
        private readonly VmMemoryAttributes _vm;
        private readonly ulong[] _gfns;
        private readonly ulong[] _original;
        private readonly ulong[] _other;
        private bool _toggle;

        public SinglePagePlan(VmMemoryAttributes vm, ulong[] gfns)
        {
            _vm = vm;
            _gfns = gfns;
            _original = gfns.Select(vm.PermissionsGet).ToArray();
            _other = _original.Select(Other).ToArray();
        }

        /// <summary>A valid value (1..7) different from <paramref name="value"/>.</summary>
        public static ulong Other(ulong value) => value % 7 + 1;

        /// <summary>Sets every page to its other value, or back; returns the pages changed.</summary>
        public int Pass()
        {
            _toggle = !_toggle;
            var values = _toggle ? _other : _original;
            var vm = _vm;
            var gfns = _gfns;
            var changedPages = 0;
            for (var i = 0; i < gfns.Length; i++)
            {
                vm.PermissionsSet(gfns[i], gfns[i] + 1, values[i], out var changed);
                changedPages += (int)changed.Length;
            }

            return changedPages;
        }
    }
}
