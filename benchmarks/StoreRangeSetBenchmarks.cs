// Last result (2026-11-25, run 5 of docs/benchmarks.md, 2-core AMD EPYC VM, .NET 10.0.12; medians per call):
// | Method    | Profile  | Median         | Reference / Store |
// |---------- |--------- |---------------:|------------------:|
// | Reference | Hardened | 1,504,715.9 ns |                   |
// | Store     | Hardened |        91.6 ns |           16,430x |
// | Reference | HekiV2   | 1,567,226.5 ns |                   |
// | Store     | HekiV2   |       108.6 ns |           14,430x |

using BenchmarkDotNet.Attributes;
using HekiActors.Memory;
using HekiActors.Memory.Reference;

namespace HekiActors.Benchmarks;

/// <summary>kvm_permissions_set of a 262,144-page range on the 1,000-run map: per-gfn Dictionary (baseline) against the run store.</summary>
/// <remarks>
/// Every invocation really changes all 262,144 pages: calls alternate between two values that the profile does
/// not skip (hardened RW ↔ R; heki-v2 R ↔ W, since under the RFC defect RW → R would be a silent no-op).
/// After the first call the range is one run, so <see cref="Store"/> times the change of one run;
/// <see cref="StoreRangeSetOverRunsBenchmarks"/> times the first call, over the ~250 runs of the 1,000-run map.
/// The reference loops over every page either way, so its figure serves both.
/// </remarks>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
[MemoryDiagnoser]
[MedianColumn]
public class StoreRangeSetBenchmarks
{
    internal const ulong RangeStart = 0x6_0000;
    internal const ulong RangePages = 262_144;
    internal const ulong RangeEnd = RangeStart + RangePages;

    private ReferenceVmMemory _reference = null!;
    private VmMemoryAttributes _store = null!;
    private ulong _valueA;
    private ulong _valueB;
    private bool _toggleReference;
    private bool _toggleStore;

    [Params(HekiProfile.Hardened, HekiProfile.HekiV2)]
    public HekiProfile Profile { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_valueA, _valueB) = Profile == HekiProfile.Hardened
            ? (HekiAttributes.Read | HekiAttributes.Write, HekiAttributes.Read)
            : (HekiAttributes.Read, HekiAttributes.Write);
        _reference = StoreFixture.BuildReference(Profile);
        _store = StoreFixture.BuildStore(Profile);

        // The first call flattens the ~250 runs under the range (pages already holding the value stay, so it may
        // change less than the whole range); from then on every call must change every page of it.
        if (Reference() == 0 || Store() == 0)
            throw new InvalidOperationException("the first range set changed nothing");
        for (var i = 0; i < 4; i++)
        {
            if (Reference() != RangePages || Store() != RangePages)
                throw new InvalidOperationException("an alternating range set did not change the whole range");
        }
    }

    /// <summary>The per-gfn Dictionary reference model (O(pages)).</summary>
    [Benchmark(Baseline = true)]
    public ulong Reference()
    {
        _toggleReference = !_toggleReference;
        FailUnlessOk(_reference.PermissionsSet(RangeStart, RangeEnd, _toggleReference ? _valueA : _valueB, out var changed));
        return changed.Length;
    }

    /// <summary>The run store, alternating the value of the (by then single-run) range.</summary>
    [Benchmark]
    public ulong Store()
    {
        _toggleStore = !_toggleStore;
        FailUnlessOk(_store.PermissionsSet(RangeStart, RangeEnd, _toggleStore ? _valueA : _valueB, out var changed));
        return changed.Length;
    }

    private static void FailUnlessOk(int result)
    {
        if (result != Errno.Ok)
            throw new InvalidOperationException($"permissions_set failed with {result}");
    }
}
