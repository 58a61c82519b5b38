using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Tests;

/// <summary>§5: KVM_HC_PROTECT_MEMORY per range, per list and per profile, with the exact log lines.</summary>
public class ProtectMemoryTests
{
    private const ulong R = HekiAttributes.Read;
    private const ulong W = HekiAttributes.Write;
    private const ulong X = HekiAttributes.Exec;
    private const ulong I = HekiAttributes.Immutable;
    private const ulong Page = 4096;

    private static MemoryRange Gfns(ulong start, ulong end, ulong permissions) => new(start * Page, end * Page, permissions);

    private static IReadOnlyList<IReadOnlyList<MemoryRange>> List(params MemoryRange[] ranges) => [ranges];

    private static WarningLine Request(string text) => new(WarningSite.ProtectRequest, "heki: Request to protect GFNs " + text);

    private static WarningLine Immutable(string gfns) =>
        new(WarningSite.ImmutableChange, "kvm: heki: Guest tried to change immutable permission for GFNs " + gfns);

    private static readonly WarningLine ClearingExec =
        new(WarningSite.ClearingExec, "heki: Clearing kernel exec depends on MBEC, which is disabled.");

    private static VmMemoryAttributes Vm(HekiProfile profile) => new(profile);

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Empty_list_returns_0_and_changes_nothing(HekiProfile profile)
    {
        var memory = Vm(profile);
        var outcome = ProtectMemory.Apply(memory, [], mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.True(outcome.Changed.IsEmpty);
        Assert.Empty(outcome.Warnings);
        Assert.Equal(0, memory.Store.RunCount);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void One_range_sets_permissions_and_logs_the_request_line(HekiProfile profile)
    {
        var memory = Vm(profile);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(0x10, 0x12, R | X)), mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.Equal(new GfnRange(0x10, 0x12), outcome.Changed);
        Assert.Equal([Request("10-12 with mutable permissions=r_x")], outcome.Warnings);
        Assert.Equal(R | X, memory.PermissionsGet(0x10));
        Assert.Equal(R | X, memory.PermissionsGet(0x11));
        Assert.Equal(HekiAttributes.DefaultPermissions, memory.PermissionsGet(0x12));
        Assert.Equal(0, outcome.HostIntegrityFaults);
    }

    [Fact]
    public void Immutable_request_line_says_immutable()
    {
        var outcome = ProtectMemory.Apply(Vm(HekiProfile.Hardened), List(Gfns(0xabc, 0xac0, R | X | I)), mbec: true);
        Assert.Equal([Request("abc-ac0 with immutable permissions=r_x")], outcome.Warnings);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0x10_001UL, 0x12_000UL)]
    [InlineData(HekiProfile.HekiV2, 0x10_000UL, 0x12_800UL)]
    public void Unaligned_pa_or_epa_returns_einval_without_logging(HekiProfile profile, ulong pa, ulong epa)
    {
        var memory = Vm(profile);
        var outcome = ProtectMemory.Apply(memory, List(new MemoryRange(pa, epa, R)), mbec: true);
        Assert.Equal(new ProtectMemoryOutcome(-22, GfnRange.Empty, outcome.Warnings, 0, outcome.Applied), outcome);
        Assert.Empty(outcome.Applied);
        Assert.Empty(outcome.Warnings);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0UL)]
    [InlineData(HekiProfile.HekiV2, 0UL)]
    [InlineData(HekiProfile.Hardened, 0x10UL | R)]
    [InlineData(HekiProfile.HekiV2, 1UL << 63)]
    public void Zero_permissions_or_a_bit_outside_0xf_return_einval_without_logging(HekiProfile profile, ulong permissions)
    {
        // No MBEC: the permission check comes before EXEC forcing, so not even the MBEC line is logged.
        var outcome = ProtectMemory.Apply(Vm(profile), List(Gfns(1, 2, permissions)), mbec: false);
        Assert.Equal(-22, outcome.Ret);
        Assert.Empty(outcome.Warnings);
    }

    [Fact]
    public void Unaligned_range_over_an_immutable_page_returns_einval_not_eperm()
    {
        var memory = Vm(HekiProfile.Hardened);
        Assert.Equal(0, ProtectMemory.Apply(memory, List(Gfns(1, 2, R | I)), mbec: true).Ret);
        var outcome = ProtectMemory.Apply(memory, List(new MemoryRange(Page, 2 * Page + 1, R)), mbec: true);
        Assert.Equal(-22, outcome.Ret);
        Assert.Empty(outcome.Warnings);
    }

    [Fact]
    public void Invalid_permissions_over_an_immutable_page_return_einval_not_eperm()
    {
        var memory = Vm(HekiProfile.HekiV2);
        Assert.Equal(0, ProtectMemory.Apply(memory, List(Gfns(1, 2, R | I)), mbec: true).Ret);
        Assert.Equal(-22, ProtectMemory.Apply(memory, List(Gfns(1, 2, 0)), mbec: true).Ret);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Missing_exec_without_mbec_is_forced_on_with_warning(HekiProfile profile)
    {
        var memory = Vm(profile);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(0x20, 0x21, R)), mbec: false);
        Assert.Equal(0, outcome.Ret);
        Assert.Equal([ClearingExec, Request("20-21 with mutable permissions=r_x")], outcome.Warnings);
        Assert.Equal(R | X, memory.PermissionsGet(0x20));
    }

    [Fact]
    public void Missing_exec_with_mbec_stays_cleared_without_warning()
    {
        var memory = Vm(HekiProfile.Hardened);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(0x20, 0x21, R | W)), mbec: true);
        Assert.Equal([Request("20-21 with mutable permissions=rw_")], outcome.Warnings);
        Assert.Equal(R | W, memory.PermissionsGet(0x20));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0x30UL)]
    [InlineData(HekiProfile.HekiV2, 0x2fUL)]
    public void Epa_not_above_pa_logs_the_request_then_returns_einval(HekiProfile profile, ulong endGfn)
    {
        var outcome = ProtectMemory.Apply(Vm(profile), List(Gfns(0x30, endGfn, R | X)), mbec: true);
        Assert.Equal(-22, outcome.Ret);
        Assert.Equal([Request($"30-{endGfn:x} with mutable permissions=r_x")], outcome.Warnings);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Range_overlapping_an_immutable_page_returns_eperm_with_warning_and_changes_nothing(HekiProfile profile)
    {
        var memory = Vm(profile);
        Assert.Equal(0, ProtectMemory.Apply(memory, List(Gfns(0x1f, 0x20, R | X | I)), mbec: true).Ret);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(0x10, 0x20, R | X)), mbec: true);
        Assert.Equal(-1, outcome.Ret);
        Assert.True(outcome.Changed.IsEmpty);
        Assert.Equal([Request("10-20 with mutable permissions=r_x"), Immutable("10-20")], outcome.Warnings);
        Assert.Equal(HekiAttributes.DefaultPermissions, memory.PermissionsGet(0x10));
        Assert.Equal(R | X | I, memory.PermissionsGet(0x1f));
    }

    [Fact]
    public void Heki_v2_stops_at_first_error_and_keeps_earlier_ranges()
    {
        var memory = Vm(HekiProfile.HekiV2);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(1, 3, R | X), new MemoryRange(5 * Page + 8, 6 * Page, R), Gfns(7, 8, R)), mbec: true);
        Assert.Equal(-22, outcome.Ret);
        Assert.Equal(new GfnRange(1, 3), outcome.Changed);
        Assert.Equal([Request("1-3 with mutable permissions=r_x")], outcome.Warnings);
        Assert.Equal(R | X, memory.PermissionsGet(1));
        Assert.Equal(HekiAttributes.DefaultPermissions, memory.PermissionsGet(7));
        // The journal records exactly what stayed applied.
        Assert.Equal([new AppliedRange(1, 3, R | X)], outcome.Applied);
    }

    [Fact]
    public void Hardened_is_all_or_nothing()
    {
        var memory = Vm(HekiProfile.Hardened);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(1, 3, R | X), new MemoryRange(5 * Page + 8, 6 * Page, R), Gfns(7, 8, R)), mbec: true);
        Assert.Equal(-22, outcome.Ret);
        Assert.True(outcome.Changed.IsEmpty);
        // The kernel logs as it goes: the first range's line stays, although its change is rolled back.
        Assert.Equal([Request("1-3 with mutable permissions=r_x")], outcome.Warnings);
        Assert.Equal(HekiAttributes.DefaultPermissions, memory.PermissionsGet(1));
        Assert.Equal(0, memory.Store.RunCount);
        Assert.Empty(outcome.Applied);
    }

    [Fact]
    public void Hardened_commits_every_range_when_all_succeed_and_later_ranges_see_earlier_ones()
    {
        var memory = Vm(HekiProfile.Hardened);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(0, 4, R | W | X), Gfns(0, 2, R | X), Gfns(8, 9, R | X | I)), mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.Equal([new AppliedRange(0, 4, R | W | X), new AppliedRange(0, 2, R | X), new AppliedRange(8, 9, R | X | I)], outcome.Applied);
        Assert.Equal(new GfnRange(0, 9), outcome.Changed);
        Assert.Equal(R | X, memory.PermissionsGet(1));
        Assert.Equal(R | W | X, memory.PermissionsGet(3));
        Assert.Equal(R | X | I, memory.PermissionsGet(8));
        Assert.Equal(
            [
                Request("0-4 with mutable permissions=rwx"),
                Request("0-2 with mutable permissions=r_x"),
                Request("8-9 with immutable permissions=r_x"),
            ],
            outcome.Warnings);
    }

    [Fact]
    public void Hardened_list_cannot_undo_an_immutable_it_just_set()
    {
        var memory = Vm(HekiProfile.Hardened);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(1, 2, R | X | I), Gfns(1, 2, R | W | X)), mbec: true);
        Assert.Equal(-1, outcome.Ret);
        Assert.True(outcome.Changed.IsEmpty);
        Assert.Equal(
            [
                Request("1-2 with immutable permissions=r_x"),
                Request("1-2 with mutable permissions=rwx"),
                Immutable("1-2"),
            ],
            outcome.Warnings);
        Assert.Equal(0UL, memory.GetAttributes(1));
    }

    [Fact]
    public void Heki_v2_list_that_undoes_its_own_immutable_keeps_the_immutable()
    {
        var memory = Vm(HekiProfile.HekiV2);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(1, 2, R | X | I), Gfns(1, 2, R | W | X)), mbec: true);
        Assert.Equal(-1, outcome.Ret);
        Assert.Equal(new GfnRange(1, 2), outcome.Changed);
        Assert.Equal(R | X | I, memory.PermissionsGet(1));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Both_profiles_return_the_first_failing_ranges_error(HekiProfile profile)
    {
        var memory = Vm(profile);
        Assert.Equal(0, ProtectMemory.Apply(memory, List(Gfns(9, 10, R | I)), mbec: true).Ret);
        // Range 2 hits the immutable page (-1) before range 3's bad permissions (-22) is reached.
        var outcome = ProtectMemory.Apply(memory, List(Gfns(1, 2, R), Gfns(8, 10, R), Gfns(3, 4, 0)), mbec: true);
        Assert.Equal(-1, outcome.Ret);
    }

    [Fact]
    public void Ranges_run_in_page_order_then_range_order()
    {
        var memory = Vm(HekiProfile.HekiV2);
        IReadOnlyList<IReadOnlyList<MemoryRange>> list = [[Gfns(1, 2, R | X), Gfns(2, 3, R | X)], [], [Gfns(3, 4, R | X)]];
        var outcome = ProtectMemory.Apply(memory, list, mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.Equal(new GfnRange(1, 4), outcome.Changed);
        Assert.Equal(
            [
                Request("1-2 with mutable permissions=r_x"),
                Request("2-3 with mutable permissions=r_x"),
                Request("3-4 with mutable permissions=r_x"),
            ],
            outcome.Warnings);
    }

    [Fact]
    public void Hardened_failure_on_a_later_page_rolls_back_earlier_pages()
    {
        var memory = Vm(HekiProfile.Hardened);
        IReadOnlyList<IReadOnlyList<MemoryRange>> list = [[Gfns(1, 2, R | X)], [Gfns(3, 3, R | X)]];
        var outcome = ProtectMemory.Apply(memory, list, mbec: true);
        Assert.Equal(-22, outcome.Ret);
        Assert.Equal(2, outcome.Warnings.Count);
        Assert.Equal(HekiAttributes.DefaultPermissions, memory.PermissionsGet(1));
    }

    private static MemoryRange[] ManyRanges(int count, ulong firstGfn = 0)
    {
        var ranges = new MemoryRange[count];
        for (var i = 0; i < count; i++)
            ranges[i] = Gfns(firstGfn + (ulong)(2 * i), firstGfn + (ulong)(2 * i) + 1, R | X);
        return ranges;
    }

    [Fact]
    public void Hardened_rejects_170_ranges_in_one_page_with_e2big()
    {
        var memory = Vm(HekiProfile.Hardened);
        IReadOnlyList<IReadOnlyList<MemoryRange>> list = [[Gfns(1000, 1001, R)], ManyRanges(170)];
        var outcome = ProtectMemory.Apply(memory, list, mbec: true);
        Assert.Equal(new ProtectMemoryOutcome(-7, GfnRange.Empty, outcome.Warnings, 0, outcome.Applied), outcome);
        Assert.Empty(outcome.Applied);
        Assert.Empty(outcome.Warnings);
        Assert.Equal(0, memory.Store.RunCount);
    }

    [Fact]
    public void Hardened_e2big_wins_over_an_invalid_range_earlier_in_the_list()
    {
        IReadOnlyList<IReadOnlyList<MemoryRange>> list = [[Gfns(1, 2, 0)], ManyRanges(170)];
        Assert.Equal(-7, ProtectMemory.Apply(Vm(HekiProfile.Hardened), list, mbec: true).Ret);
    }

    [Fact]
    public void Hardened_accepts_169_ranges_in_one_page()
    {
        var memory = Vm(HekiProfile.Hardened);
        var outcome = ProtectMemory.Apply(memory, [ManyRanges(169)], mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.Equal(169, outcome.Warnings.Count);
        Assert.Equal(R | X, memory.PermissionsGet(2 * 168));
    }

    [Fact]
    public void Hardened_rejects_1025_list_pages_with_e2big_and_accepts_1024()
    {
        var tooMany = Enumerable.Range(0, 1025).Select(i => (IReadOnlyList<MemoryRange>)[Gfns((ulong)i, (ulong)i + 1, R | X)]).ToArray();
        var memory = Vm(HekiProfile.Hardened);
        var refused = ProtectMemory.Apply(memory, tooMany, mbec: true);
        Assert.Equal(-7, refused.Ret);
        Assert.Empty(refused.Warnings);
        Assert.Equal(0, memory.Store.RunCount);

        var accepted = ProtectMemory.Apply(memory, tooMany[..1024], mbec: true);
        Assert.Equal(0, accepted.Ret);
        Assert.Equal(new GfnRange(0, 1024), accepted.Changed);
    }

    [Fact]
    public void Heki_v2_processes_170_ranges_and_records_host_integrity_fault()
    {
        var memory = Vm(HekiProfile.HekiV2);
        var outcome = ProtectMemory.Apply(memory, [ManyRanges(170)], mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.Equal(1, outcome.HostIntegrityFaults);
        Assert.Equal(170, outcome.Warnings.Count);
        Assert.Equal(R | X, memory.PermissionsGet(2 * 169));
    }

    [Fact]
    public void Heki_v2_counts_an_overflowing_page_only_when_the_loop_reaches_it()
    {
        var memory = Vm(HekiProfile.HekiV2);
        IReadOnlyList<IReadOnlyList<MemoryRange>> list = [ManyRanges(200), [Gfns(1, 1, R)], ManyRanges(300)];
        var outcome = ProtectMemory.Apply(memory, list, mbec: true);
        Assert.Equal(-22, outcome.Ret);
        Assert.Equal(1, outcome.HostIntegrityFaults);
    }

    [Fact]
    public void Heki_v2_has_no_list_page_limit()
    {
        var pages = Enumerable.Range(0, 1100).Select(i => (IReadOnlyList<MemoryRange>)[Gfns((ulong)i, (ulong)i + 1, R | X)]).ToArray();
        var outcome = ProtectMemory.Apply(Vm(HekiProfile.HekiV2), pages, mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.Equal(0, outcome.HostIntegrityFaults);
    }

    [Fact]
    public void Heki_v2_pure_downgrade_through_the_hypercall_is_silently_ignored()
    {
        var memory = Vm(HekiProfile.HekiV2);
        Assert.Equal(0, ProtectMemory.Apply(memory, List(Gfns(4, 6, R | W | X)), mbec: true).Ret);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(4, 6, R | X)), mbec: true);
        Assert.Equal(0, outcome.Ret);
        Assert.True(outcome.Changed.IsEmpty);
        Assert.Equal(R | W | X, memory.PermissionsGet(4));
    }

    [Fact]
    public void Hardened_pure_downgrade_through_the_hypercall_is_applied()
    {
        var memory = Vm(HekiProfile.Hardened);
        Assert.Equal(0, ProtectMemory.Apply(memory, List(Gfns(4, 6, R | W | X)), mbec: true).Ret);
        var outcome = ProtectMemory.Apply(memory, List(Gfns(4, 6, R | X)), mbec: true);
        Assert.Equal(new GfnRange(4, 6), outcome.Changed);
        Assert.Equal(R | X, memory.PermissionsGet(4));
    }
}
