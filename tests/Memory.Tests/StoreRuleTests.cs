namespace HekiActors.Memory.Tests;

public class StoreRuleTests
{
    private const ulong Top = ulong.MaxValue; // exclusive end of the gfn space: gfns live in [0, 2^64-1)
    private const ulong LastGfn = ulong.MaxValue - 1;

    private static List<AttributeRun> RunsOf(AttributeStore store) => store.Runs.ToList();

    [Theory]
    [InlineData(0UL)]
    [InlineData(12345UL)]
    [InlineData(LastGfn)]
    public void A_gfn_without_an_entry_has_word_zero(ulong gfn)
    {
        var store = new AttributeStore();
        store.SetAttributes(100, 200, 0x10, 0xF0);
        Assert.Equal(0UL, store.GetAttributes(gfn));
    }

    [Fact]
    public void Set_computes_old_and_not_mask_or_attributes_and_mask_for_every_gfn()
    {
        var store = new AttributeStore();
        store.SetAttributes(10, 20, 0x18, ulong.MaxValue);
        store.SetAttributes(15, 25, 0x30, 0xF0);
        for (ulong gfn = 10; gfn < 15; gfn++)
            Assert.Equal(0x18UL, store.GetAttributes(gfn));
        for (ulong gfn = 15; gfn < 20; gfn++)
            Assert.Equal(0x38UL, store.GetAttributes(gfn));
        for (ulong gfn = 20; gfn < 25; gfn++)
            Assert.Equal(0x30UL, store.GetAttributes(gfn));
        Assert.Equal(0UL, store.GetAttributes(9));
        Assert.Equal(0UL, store.GetAttributes(25));
    }

    [Fact]
    public void A_heki_mask_preserves_the_private_bit()
    {
        var store = new AttributeStore();
        store.SetAttributes(0, 8, HekiAttributes.KvmPrivate, HekiAttributes.KvmPrivate);
        store.SetAttributes(0, 8, 0x70, HekiAttributes.KvmHekiMask);
        store.SetAttributes(2, 4, 0x00, HekiAttributes.KvmHekiMask);
        Assert.Equal(0x78UL, store.GetAttributes(0));
        Assert.Equal(0x08UL, store.GetAttributes(2));
        Assert.Equal(0x78UL, store.GetAttributes(7));
    }

    [Fact]
    public void Attribute_bits_outside_the_mask_are_not_stored()
    {
        var store = new AttributeStore();
        var changed = store.SetAttributes(3, 4, 0xFF, 0x10);
        Assert.Equal(0x10UL, store.GetAttributes(3));
        Assert.Equal(new GfnRange(3, 4), changed);
    }

    [Fact]
    public void A_word_that_becomes_zero_is_erased()
    {
        var store = new AttributeStore();
        store.SetAttributes(5, 10, 0x18, ulong.MaxValue);
        var changed = store.SetAttributes(0, 20, 0, 0xF8);
        Assert.Equal(new GfnRange(5, 10), changed);
        Assert.Empty(RunsOf(store));
        Assert.Equal(0, store.RunCount);
        Assert.True(store.RangeHas(0, 20, 0, matchAll: true));
        Assert.True(store.RangeHas(0, 20, 0, matchAll: false));
    }

    [Fact]
    public void Changed_range_covers_exactly_the_first_to_last_gfn_whose_word_changed()
    {
        var store = new AttributeStore();
        store.SetAttributes(10, 20, 0x10, 0xF0);
        Assert.Equal(new GfnRange(5, 25), store.SetAttributes(5, 25, 0x10, 0xF0));
        store.SetAttributes(12, 14, 0x30, 0xF0);
        Assert.Equal(new GfnRange(12, 14), store.SetAttributes(5, 25, 0x10, 0xF0));
        Assert.Equal(new GfnRange(25, 31), store.SetAttributes(5, 31, 0x10, 0xF0));
        Assert.Equal(new GfnRange(0, 5), store.SetAttributes(0, 31, 0x10, 0xF0));
    }

    [Fact]
    public void A_set_that_changes_nothing_reports_an_empty_range_and_keeps_the_runs()
    {
        var store = new AttributeStore();
        store.SetAttributes(10, 20, 0x50, 0xF0);
        var before = RunsOf(store);
        var changed = store.SetAttributes(12, 18, 0x50, 0xF0);
        Assert.True(changed.IsEmpty);
        Assert.Equal(GfnRange.Empty, changed);
        Assert.Equal(before, RunsOf(store));
        Assert.True(store.SetAttributes(0, 100, 0xFF, 0).IsEmpty);
        Assert.Equal(before, RunsOf(store));
    }

    [Theory]
    [InlineData(5UL, 5UL)]
    [InlineData(6UL, 5UL)]
    [InlineData(Top, 0UL)]
    public void An_empty_or_inverted_range_changes_nothing(ulong start, ulong end)
    {
        var store = new AttributeStore();
        Assert.True(store.SetAttributes(start, end, 0x70, 0xF0).IsEmpty);
        Assert.Empty(RunsOf(store));
    }

    [Fact]
    public void Range_has_with_match_all_needs_every_gfn_to_have_all_bits()
    {
        var store = new AttributeStore();
        store.SetAttributes(0, 10, 0x70, 0xF0);
        store.SetAttributes(4, 5, 0x10, 0xF0);
        Assert.True(store.RangeHas(0, 10, 0x10, matchAll: true));
        Assert.False(store.RangeHas(0, 10, 0x30, matchAll: true));
        Assert.True(store.RangeHas(0, 4, 0x70, matchAll: true));
        Assert.False(store.RangeHas(0, 11, 0x10, matchAll: true));
    }

    [Fact]
    public void Range_has_without_match_all_needs_one_gfn_with_all_bits()
    {
        var store = new AttributeStore();
        store.SetAttributes(7, 8, 0x30, 0xF0);
        store.SetAttributes(8, 9, 0x50, 0xF0);
        Assert.True(store.RangeHas(0, 100, 0x30, matchAll: false));
        Assert.False(store.RangeHas(0, 100, 0x70, matchAll: false));
        Assert.False(store.RangeHas(0, 7, 0x10, matchAll: false));
        Assert.True(store.RangeHas(8, 9, 0x40, matchAll: false));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Range_has_with_attrs_zero_answers_whether_the_range_has_no_entries(bool matchAll)
    {
        var store = new AttributeStore();
        Assert.True(store.RangeHas(0, Top, 0, matchAll));
        store.SetAttributes(50, 51, HekiAttributes.KvmPrivate, HekiAttributes.KvmPrivate);
        Assert.False(store.RangeHas(0, 100, 0, matchAll));
        Assert.False(store.RangeHas(50, 51, 0, matchAll));
        Assert.True(store.RangeHas(0, 50, 0, matchAll));
        Assert.True(store.RangeHas(51, Top, 0, matchAll));
    }

    [Fact]
    public void Range_has_over_an_empty_range_matches_all_vacuously_and_any_never()
    {
        var store = new AttributeStore();
        store.SetAttributes(0, 100, 0x70, 0xF0);
        Assert.True(store.RangeHas(10, 10, 0x10, matchAll: true));
        Assert.False(store.RangeHas(10, 10, 0x10, matchAll: false));
        Assert.True(store.RangeHas(20, 10, 0x10, matchAll: true));
        Assert.False(store.RangeHas(20, 10, 0x10, matchAll: false));
        Assert.True(store.RangeHas(20, 10, 0, matchAll: false));
    }

    [Fact]
    public void Runs_are_maximal_nonzero_and_in_gfn_order()
    {
        var store = new AttributeStore();
        store.SetAttributes(30, 31, 0x10, 0xF0);
        store.SetAttributes(5, 10, 0x10, 0xF0);
        store.SetAttributes(0, 5, 0x10, 0xF0);
        store.SetAttributes(20, 30, 0x30, 0xF0);
        store.SetAttributes(40, 50, 0x08, 0x08);
        store.SetAttributes(45, 50, 0x00, 0x08);
        Assert.Equal(
            [new AttributeRun(0, 10, 0x10), new AttributeRun(20, 30, 0x30), new AttributeRun(30, 31, 0x10), new AttributeRun(40, 45, 0x08)],
            RunsOf(store));
        Assert.Equal(4, store.RunCount);
        Assert.Equal(new GfnRange(20, 30), RunsOf(store)[1].Range);
    }

    [Fact]
    public void Runs_reach_the_top_of_the_gfn_space()
    {
        var store = new AttributeStore();
        store.SetAttributes(LastGfn, Top, 0x80, 0xF0);
        store.SetAttributes(0, 1, 0x80, 0xF0);
        Assert.Equal([new AttributeRun(0, 1, 0x80), new AttributeRun(LastGfn, Top, 0x80)], RunsOf(store));
        Assert.Equal(0x80UL, store.GetAttributes(LastGfn));
        Assert.Equal(0UL, store.GetAttributes(LastGfn - 1));
        Assert.True(store.RangeHas(LastGfn, Top, 0x80, matchAll: true));
    }

    [Fact]
    public void A_clone_is_independent_of_its_original_both_ways()
    {
        var store = new AttributeStore();
        store.SetAttributes(0, 10, 0x10, 0xF0);
        var clone = store.Clone();
        Assert.Equal(RunsOf(store), RunsOf(clone));

        clone.SetAttributes(5, 15, 0x70, 0xF0);
        Assert.Equal([new AttributeRun(0, 10, 0x10)], RunsOf(store));

        store.SetAttributes(0, 10, 0, 0xF0);
        Assert.Equal([new AttributeRun(0, 5, 0x10), new AttributeRun(5, 15, 0x70)], RunsOf(clone));
        Assert.Equal(0x70UL, clone.GetAttributes(7));
        Assert.Equal(0UL, store.GetAttributes(7));
    }

    [Fact]
    public void A_clone_of_a_large_store_has_the_same_runs_and_answers()
    {
        var store = new AttributeStore();
        for (ulong i = 0; i < 2000; i++)
            store.SetAttributes(i * 3, i * 3 + 1 + (i % 2), 0x10UL << (int)(i % 4), 0xF0);
        var clone = store.Clone();
        Assert.Equal(RunsOf(store), RunsOf(clone));
        for (ulong gfn = 0; gfn < 6100; gfn += 7)
            Assert.Equal(store.GetAttributes(gfn), clone.GetAttributes(gfn));
        clone.SetAttributes(0, Top, 0, ulong.MaxValue);
        Assert.Empty(RunsOf(clone));
        Assert.Equal(0x10UL, store.GetAttributes(0));
    }

    [Fact]
    public void A_committed_scratch_copy_stays_independent_of_the_vm()
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, 1, out _));
        var scratch = vm.Clone();
        Assert.Equal(Errno.Ok, scratch.PermissionsSet(2, 6, 5, out _));
        Assert.Equal(1UL, vm.PermissionsGet(2));

        vm.CommitFrom(scratch);
        Assert.Equal(5UL, vm.PermissionsGet(2));
        Assert.Equal(5UL, vm.PermissionsGet(5));

        Assert.Equal(Errno.Ok, scratch.PermissionsSet(0, 6, 0, out _));
        Assert.Equal(5UL, vm.PermissionsGet(2));
        Assert.Equal(1UL, vm.PermissionsGet(0));
    }

    [Fact]
    public void A_scratch_copy_of_a_differently_configured_vm_cannot_be_committed()
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened);
        Assert.Throws<ArgumentException>(() => vm.CommitFrom(new VmMemoryAttributes(HekiProfile.HekiV2)));
        Assert.Throws<ArgumentException>(() => vm.CommitFrom(new VmMemoryAttributes(HekiProfile.Hardened, privateMemory: true)));
    }

    [Fact]
    public void Heki_v2_skips_a_range_that_already_has_every_bit_of_the_attributes()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2);
        vm.SetAttributes(0, 4, 0x70, 0xF0);
        var changed = vm.SetAttributes(0, 4, 0x10, 0xF0);
        Assert.True(changed.IsEmpty);
        Assert.Equal(0x70UL, vm.GetAttributes(3));
    }

    [Fact]
    public void Hardened_applies_a_set_unless_every_masked_part_already_equals_it()
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened);
        vm.SetAttributes(0, 4, 0x70, 0xF0);
        Assert.Equal(new GfnRange(0, 4), vm.SetAttributes(0, 4, 0x10, 0xF0));
        Assert.Equal(0x10UL, vm.GetAttributes(3));
        Assert.True(vm.SetAttributes(0, 4, 0x10, 0xF0).IsEmpty);
    }

    [Fact]
    public void Heki_v2_applies_a_set_when_one_gfn_lacks_a_bit()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2);
        vm.SetAttributes(0, 3, 0x70, 0xF0);
        vm.SetAttributes(3, 4, 0x20, 0xF0);
        Assert.Equal(new GfnRange(0, 4), vm.SetAttributes(0, 4, 0x10, 0xF0));
        Assert.Equal([new AttributeRun(0, 4, 0x10)], vm.Store.Runs.ToList());
    }

    [Theory]
    [InlineData(HekiProfile.HekiV2)]
    [InlineData(HekiProfile.Hardened)]
    public void Clearing_with_attributes_zero_is_applied_in_both_profiles(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        vm.SetAttributes(0, 4, 0x78, ulong.MaxValue);
        Assert.Equal(new GfnRange(0, 4), vm.SetAttributes(0, 4, 0, 0xF0));
        Assert.Equal(0x08UL, vm.GetAttributes(0));
        Assert.True(vm.SetAttributes(10, 20, 0, 0xF0).IsEmpty);
    }

    [Fact]
    public void Restore_puts_back_exactly_the_runs_taken()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2);
        vm.SetAttributes(0, 4, 0x70, 0xF0);
        vm.SetAttributes(LastGfn, Top, 0x88, ulong.MaxValue);
        var runs = vm.Store.Runs.ToList();
        var other = new VmMemoryAttributes(HekiProfile.HekiV2);
        other.SetAttributes(100, 200, 0x10, 0xF0);
        other.Restore(runs);
        Assert.Equal(runs, other.Store.Runs.ToList());
    }
}

public class TopOfGfnSpaceTests
{
    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Gfn_2_pow_64_minus_1_is_never_set_so_it_reads_as_no_entry(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(0, vm.PermissionsSet(ulong.MaxValue - 1, ulong.MaxValue, HekiAttributes.Read, out _));
        Assert.Equal(HekiAttributes.Read, vm.PermissionsGet(ulong.MaxValue - 1));
        Assert.Equal(0UL, vm.GetAttributes(ulong.MaxValue));
        Assert.Equal(HekiAttributes.DefaultPermissions, vm.PermissionsGet(ulong.MaxValue));
    }
}
