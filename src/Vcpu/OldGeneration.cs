namespace HekiActors.Vcpu;

/// <summary>
/// Arrays allocated straight into the old generation (the pinned object heap, which the collector counts as gen2), for
/// reference-free buffers that an object living as long as its vCPU grows now and then: a histogram's buckets, the
/// translation cache's entries. Allocated young, each new array hangs off an old object, a card that every gen0 and
/// gen1 collection scans until two of them have copied the array into gen2; at 10,000 running VMs that was most of what
/// the young collections spent their pauses on (issue 14, docs/benchmarks.md "Responsiveness at 10,000 VMs (third pass)").
/// Only for arrays without references (a pinned array is never moved, and nothing in it needs a card).
/// </summary>
internal static class OldGeneration
{
    /// <summary>A zeroed array of <paramref name="length"/> in the old generation.</summary>
    public static T[] Array<T>(int length) where T : unmanaged => GC.AllocateArray<T>(length, pinned: true);

    /// <summary><paramref name="array"/>'s elements in a new old-generation array of <paramref name="length"/> (≥ its length).</summary>
    public static T[] Grown<T>(T[] array, int length) where T : unmanaged
    {
        var grown = Array<T>(length);
        System.Array.Copy(array, grown, array.Length);
        return grown;
    }

    /// <summary>Whether <paramref name="array"/> is null or in the oldest generation (for the guards).</summary>
    public static bool Holds(System.Array? array) => array is null || GC.GetGeneration(array) == GC.MaxGeneration;
}
