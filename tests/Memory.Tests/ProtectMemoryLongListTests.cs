using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Tests;

/// <summary>
/// §5 over lists far longer than a boot's: <see cref="ProtectMemory.Evaluate"/> (the VM actor's decision, without a copy of
/// the store) sees every IMMUTABLE an earlier range of the same list set, exactly as <see cref="ProtectMemory.Apply"/> does,
/// once the list is past the length where it stops scanning the earlier ranges and keeps a run store of them.
/// </summary>
public class ProtectMemoryLongListTests
{
    private const ulong Page = 4096;

    public static TheoryData<HekiProfile, int> Lists => new()
    {
        { HekiProfile.Hardened, 10 }, { HekiProfile.HekiV2, 10 },
        { HekiProfile.Hardened, 900 }, { HekiProfile.HekiV2, 900 },
        { HekiProfile.HekiV2, 5_000 },
    };

    [Theory]
    [MemberData(nameof(Lists))]
    public void Evaluate_agrees_with_Apply_on_long_lists_that_set_and_then_hit_immutable_pages(HekiProfile profile, int ranges)
    {
        var random = new Random(ranges);
        for (var round = 0; round < 20; round++)
        {
            // Mostly mutable ranges, a few immutable ones, over few enough gfns that later ranges overlap earlier ones.
            var list = Enumerable.Range(0, ranges).Select(_ =>
            {
                var start = (ulong)random.Next(0, ranges * 4);
                var permissions = random.Next(40) == 0 ? HekiAttributes.Read | HekiAttributes.Immutable : HekiAttributes.Read | HekiAttributes.Exec;
                return new MemoryRange(start * Page, (start + 1 + (ulong)random.Next(3)) * Page, permissions);
            }).ToArray();
            IReadOnlyList<IReadOnlyList<MemoryRange>> pages = list.Chunk(ProtectMemory.MaxRangesPerPage).ToArray();

            var evaluated = ProtectMemory.Evaluate(new VmMemoryAttributes(profile), pages, mbec: true);
            var applied = ProtectMemory.Apply(new VmMemoryAttributes(profile), pages, mbec: true);

            Assert.Equal(applied.Ret, evaluated.Ret);
            Assert.Equal(applied.Applied, evaluated.Applied);
            Assert.Equal(applied.Warnings, evaluated.Warnings);
        }
    }

    [Fact]
    public void A_list_of_half_a_million_ranges_is_decided_in_one_pass()
    {
        // 520,000 times the same mutable range (a 16 MiB replay line): heki-v2 applies every one; the check of each against
        // the earlier ones must not be a scan of them (it was: 1.35e11 comparisons, minutes).
        IReadOnlyList<IReadOnlyList<MemoryRange>> pages = Enumerable.Repeat(new MemoryRange(Page, 2 * Page, HekiAttributes.Read | HekiAttributes.Exec), 520_000)
            .Chunk(ProtectMemory.MaxRangesPerPage).ToArray();

        var outcome = ProtectMemory.Evaluate(new VmMemoryAttributes(HekiProfile.HekiV2), pages, mbec: true);

        Assert.Equal(Errno.Ok, outcome.Ret);
        Assert.Equal(520_000, outcome.Applied.Count);
    }
}
