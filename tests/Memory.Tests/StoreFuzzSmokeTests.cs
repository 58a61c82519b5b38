using HekiActors.Memory;
using HekiActors.Memory.Reference;

namespace HekiActors.Memory.Tests;

/// <summary>A fast seeded fuzz of the run store against the per-gfn reference, with dense small keys to force leaf splits.</summary>
public class StoreFuzzSmokeTests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 600)]
    [InlineData(3, 5000)]
    public void Run_store_matches_per_gfn_reference_over_seeded_random_sets(int seed, int space)
    {
        var random = new Random(seed);
        var store = new AttributeStore();
        var reference = new ReferenceVmMemory();
        var mostBoundaries = 0;
        for (var step = 0; step < 4000; step++)
        {
            var start = (ulong)random.Next(space);
            var length = random.Next(40) == 0 ? (ulong)random.Next(space) : (ulong)random.Next(1, 4);
            var end = start + length;
            var attributes = (ulong)random.Next(256);
            var mask = random.Next(3) switch { 0 => 0xF0UL, 1 => 0x08UL, _ => (ulong)random.Next(256) };
            var expected = reference.SetAttributes(start, end, attributes, mask);
            var actual = store.SetAttributes(start, end, attributes, mask);
            Assert.Equal(expected, actual);
            mostBoundaries = Math.Max(mostBoundaries, store.BoundaryCount);
            if (step % 97 == 0)
            {
                for (ulong gfn = 0; gfn < (ulong)space + 8; gfn++)
                    Assert.Equal(reference.GetAttributes(gfn), store.GetAttributes(gfn));
                Assert.Equal(reference.Runs().ToList(), store.Runs.ToList());
                Assert.Equal(reference.Runs().Count(), store.RunCount);
                Assert.Equal(store.RunCount, store.Clone().RunCount);
            }

            var probe = (ulong)random.Next(space + 8);
            Assert.Equal(reference.GetAttributes(probe), store.GetAttributes(probe));
            var hs = (ulong)random.Next(space);
            var he = hs + (ulong)random.Next(0, 40);
            var attrs = random.Next(4) == 0 ? 0UL : (ulong)random.Next(1, 256);
            var all = random.Next(2) == 0;
            Assert.Equal(reference.RangeHas(hs, he, attrs, all), store.RangeHas(hs, he, attrs, all));
        }

        // The larger spaces must have exercised leaf splits and merges, or the test proves little.
        if (space >= 600)
            Assert.True(mostBoundaries > 4 * AttributeStore.LeafCapacity, $"only {mostBoundaries} boundaries");
    }
}
