using HekiActors.Memory;
using HekiActors.Memory.Reference;

namespace HekiActors.Benchmarks;

/// <summary>The issue-2 benchmark map: 1,048,576 pages tiled by 1,000 runs, built identically in every model.</summary>
public static class StoreFixture
{
    /// <summary>Pages in the map: gfns [0, 2^20).</summary>
    public const int Pages = 1 << 20;

    /// <summary>Runs tiling the map.</summary>
    public const int Runs = 1_000;

    /// <summary>Random single-page changes applied to make the fragmented store.</summary>
    public const int FragmentingChanges = 200_000;

    /// <summary>Seed of the tiling; every benchmark process rebuilds the same map.</summary>
    public const int Seed = 20_251_125;

    /// <summary>
    /// The tiling: run i is [Starts[i], Starts[i+1]) (the last ends at <see cref="Pages"/>) with heki permissions
    /// Permissions[i] in 1..7 (R/W/X combinations), consecutive runs differing. IMMUTABLE is left out because a
    /// later set over it is refused (-EPERM) and would time the error path; 0 is left out so every run is an entry.
    /// </summary>
    public static (int[] Starts, byte[] Permissions) Tiling()
    {
        var random = new Random(Seed);
        var cuts = new HashSet<int> { 0 };
        while (cuts.Count < Runs)
            cuts.Add(random.Next(1, Pages));
        var starts = cuts.ToArray();
        Array.Sort(starts);
        var permissions = new byte[Runs];
        byte previous = 0;
        for (var i = 0; i < Runs; i++)
        {
            byte value;
            do
                value = (byte)random.Next(1, 8);
            while (value == previous);
            permissions[i] = value;
            previous = value;
        }

        return (starts, permissions);
    }

    /// <summary>End (exclusive) of run <paramref name="i"/> of a tiling.</summary>
    public static int RunEnd(int[] starts, int i) => i + 1 < starts.Length ? starts[i + 1] : Pages;

    /// <summary>The store side: the tiling applied through kvm_permissions_set.</summary>
    public static VmMemoryAttributes BuildStore(HekiProfile profile = HekiProfile.Hardened)
    {
        var (starts, permissions) = Tiling();
        var vm = new VmMemoryAttributes(profile);
        for (var i = 0; i < starts.Length; i++)
            Check(vm.PermissionsSet((ulong)starts[i], (ulong)RunEnd(starts, i), permissions[i], out _));
        return vm;
    }

    /// <summary>The per-gfn Dictionary baseline, built by the same calls.</summary>
    public static ReferenceVmMemory BuildReference(HekiProfile profile = HekiProfile.Hardened)
    {
        var (starts, permissions) = Tiling();
        var reference = new ReferenceVmMemory(profile);
        for (var i = 0; i < starts.Length; i++)
            Check(reference.PermissionsSet((ulong)starts[i], (ulong)RunEnd(starts, i), permissions[i], out _));
        return reference;
    }

    /// <summary>The physical limit: one byte of permissions per page.</summary>
    public static byte[] BuildFlat()
    {
        var (starts, permissions) = Tiling();
        var flat = new byte[Pages];
        for (var i = 0; i < starts.Length; i++)
            flat.AsSpan(starts[i], RunEnd(starts, i) - starts[i]).Fill(permissions[i]);
        return flat;
    }

    /// <summary>
    /// The 1,000-run store after <see cref="FragmentingChanges"/> random single-page kvm_permissions_set calls,
    /// each to a value different from the page's current one (so each really changes the page).
    /// </summary>
    public static VmMemoryAttributes BuildFragmentedStore(HekiProfile profile = HekiProfile.Hardened)
    {
        var vm = BuildStore(profile);
        var random = new Random(Seed + 1);
        for (var i = 0; i < FragmentingChanges; i++)
        {
            var gfn = (ulong)random.Next(Pages);
            var current = vm.PermissionsGet(gfn);
            ulong value;
            do
                value = (ulong)random.Next(1, 8);
            while (value == current);
            Check(vm.PermissionsSet(gfn, gfn + 1, value, out var changed));
            if (changed.IsEmpty)
                throw new InvalidOperationException($"fragmenting change at gfn {gfn} changed nothing");
        }

        return vm;
    }

    /// <summary><paramref name="count"/> uniformly random gfns in the map (fixed seed).</summary>
    public static ulong[] RandomGfns(int count, int seed)
    {
        var random = new Random(seed);
        var gfns = new ulong[count];
        for (var i = 0; i < count; i++)
            gfns[i] = (ulong)random.Next(Pages);
        return gfns;
    }

    /// <summary><paramref name="count"/> distinct random gfns in the map (fixed seed).</summary>
    public static ulong[] DistinctRandomGfns(int count, int seed)
    {
        var random = new Random(seed);
        var set = new HashSet<ulong>();
        var gfns = new ulong[count];
        var n = 0;
        while (n < count)
        {
            var gfn = (ulong)random.Next(Pages);
            if (set.Add(gfn))
                gfns[n++] = gfn;
        }

        return gfns;
    }

    /// <summary>Throws unless a kernel call returned 0.</summary>
    public static void Check(int result)
    {
        if (result != Errno.Ok)
            throw new InvalidOperationException($"benchmark set-up call failed with {result}");
    }
}
