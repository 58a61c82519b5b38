// Last result (2026-11-25, `dotnet run -c Release --project benchmarks -- --memory`):
//   runs 1000, boundaries 1001
//   AttributeStore.ApproximateBytes              56,002 B  (54.7 KiB)
//   GC.GetTotalMemory(true) retained             56,760 B  (55.4 KiB)  (whole VmMemoryAttributes)
//   allocated while building (incl. garbage)     76,656 B  (74.9 KiB)
//   target <= 65,536 B: met
//   Fragmented: boundaries 323,594, ApproximateBytes 9,284,024 B; reference Dictionary retained 39,067,552 B

using HekiActors.Memory;

namespace HekiActors.Benchmarks;

/// <summary>The memory target: `dotnet run -c Release --project benchmarks -- --memory` prints the store's size for the 1,000-run map.</summary>
public static class StoreMemoryHarness
{
    /// <summary>The target for the 1,000-run map.</summary>
    public const long TargetBytes = 64 * 1024;

    /// <summary>Builds the map in each model and prints ApproximateBytes and two GC measures; returns 0 when the target is met.</summary>
    public static int Run(TextWriter output)
    {
        // Warm up: JIT, the tiling's own allocations and any lazily created runtime state are paid once here.
        StoreFixture.BuildStore();
        StoreFixture.Tiling();

        var (starts, permissions) = StoreFixture.Tiling();
        var store = Measure(() => Build(starts, permissions), out var retained, out var allocated);
        var approximate = store.Store.ApproximateBytes;
        var met = approximate <= TargetBytes && retained <= TargetBytes;

        output.WriteLine("Attribute store memory, 1,048,576 pages tiled by 1,000 runs (hardened, via PermissionsSet)");
        output.WriteLine($"  runs {store.Store.RunCount}, boundaries {store.Store.BoundaryCount}");
        output.WriteLine($"  AttributeStore.ApproximateBytes          {approximate,10:N0} B  ({approximate / 1024.0:F1} KiB)");
        output.WriteLine($"  GC.GetTotalMemory(true) retained         {retained,10:N0} B  ({retained / 1024.0:F1} KiB)  (whole VmMemoryAttributes)");
        output.WriteLine($"  allocated while building (incl. garbage) {allocated,10:N0} B  ({allocated / 1024.0:F1} KiB)");
        output.WriteLine($"  target <= {TargetBytes:N0} B: {(met ? "met" : "NOT met")}");

        var fragmented = Measure(() => StoreFixture.BuildFragmentedStore(), out var fragmentedRetained, out _);
        output.WriteLine($"Fragmented (+{StoreFixture.FragmentingChanges:N0} single-page changes): boundaries {fragmented.Store.BoundaryCount:N0}, " +
            $"ApproximateBytes {fragmented.Store.ApproximateBytes:N0} B, retained {fragmentedRetained:N0} B (no target)");

        var reference = Measure(() => StoreFixture.BuildReference(), out var referenceRetained, out _);
        output.WriteLine($"Reference per-gfn Dictionary: {reference.EntryCount:N0} entries, retained {referenceRetained:N0} B");
        output.WriteLine($"Flat byte[]: {StoreFixture.Pages:N0} B");
        GC.KeepAlive(store);
        GC.KeepAlive(fragmented);
        GC.KeepAlive(reference);
        return met ? 0 : 1;
    }

    private static VmMemoryAttributes Build(int[] starts, byte[] permissions)
    {
        var vm = new VmMemoryAttributes();
        for (var i = 0; i < starts.Length; i++)
            StoreFixture.Check(vm.PermissionsSet((ulong)starts[i], (ulong)StoreFixture.RunEnd(starts, i), permissions[i], out _));
        return vm;
    }

    private static T Measure<T>(Func<T> build, out long retained, out long allocated)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var result = build();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(result);
        return result;
    }
}
