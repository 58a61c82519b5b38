namespace HekiActors.Memory.Tests;

public class PermissionsTests
{
    private const ulong R = HekiAttributes.Read;
    private const ulong W = HekiAttributes.Write;
    private const ulong X = HekiAttributes.Exec;
    private const ulong Imm = HekiAttributes.Immutable;
    private const ulong Rwx = R | W | X;
    private const ulong Top = ulong.MaxValue;
    private const ulong LastGfn = ulong.MaxValue - 1;

    private static void Set(VmMemoryAttributes vm, ulong start, ulong end, ulong attr)
    {
        Assert.Equal(Errno.Ok, vm.PermissionsSet(start, end, attr, out _));
    }

    /// <summary>A VM with gfn 10 immutable (R|IMMUTABLE) and gfns [0, 30) otherwise R|W.</summary>
    private static VmMemoryAttributes WithImmutablePageAt10(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Set(vm, 0, 30, R | W);
        Set(vm, 10, 11, R | Imm);
        return vm;
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0x10UL)]
    [InlineData(HekiProfile.HekiV2, 0x10UL)]
    [InlineData(HekiProfile.Hardened, 0x17UL)]
    [InlineData(HekiProfile.HekiV2, 0x1FUL)]
    [InlineData(HekiProfile.Hardened, 1UL << 63)]
    [InlineData(HekiProfile.HekiV2, ulong.MaxValue)]
    public void A_heki_attr_with_a_bit_outside_0xF_is_EINVAL_and_changes_nothing(HekiProfile profile, ulong attr)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Errno.EINVAL, vm.PermissionsSet(0, 10, attr, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 5UL, 5UL)]
    [InlineData(HekiProfile.HekiV2, 5UL, 5UL)]
    [InlineData(HekiProfile.Hardened, 6UL, 5UL)]
    [InlineData(HekiProfile.HekiV2, 0UL, 0UL)]
    [InlineData(HekiProfile.Hardened, Top, Top)]
    [InlineData(HekiProfile.HekiV2, Top, 0UL)]
    public void An_empty_or_inverted_range_is_EINVAL(HekiProfile profile, ulong start, ulong end)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Errno.EINVAL, vm.PermissionsSet(start, end, R, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void A_bad_attr_and_an_empty_range_give_EINVAL_from_rule_1(HekiProfile profile)
    {
        var vm = WithImmutablePageAt10(profile);
        Assert.Equal(Errno.EINVAL, vm.PermissionsSet(20, 10, 0x100, out var changed));
        Assert.True(changed.IsEmpty);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void A_bad_attr_over_an_immutable_page_is_EINVAL_not_EPERM(HekiProfile profile)
    {
        var vm = WithImmutablePageAt10(profile);
        Assert.Equal(Errno.EINVAL, vm.PermissionsSet(0, 30, 0x10 | Rwx, out _));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 10UL, 10UL)]
    [InlineData(HekiProfile.HekiV2, 10UL, 10UL)]
    [InlineData(HekiProfile.Hardened, 11UL, 10UL)]
    [InlineData(HekiProfile.HekiV2, 30UL, 0UL)]
    public void An_empty_range_over_an_immutable_page_is_EINVAL_not_EPERM(HekiProfile profile, ulong start, ulong end)
    {
        var vm = WithImmutablePageAt10(profile);
        Assert.Equal(Errno.EINVAL, vm.PermissionsSet(start, end, R, out _));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 10UL, 20UL)]
    [InlineData(HekiProfile.HekiV2, 10UL, 20UL)]
    [InlineData(HekiProfile.Hardened, 0UL, 11UL)]
    [InlineData(HekiProfile.HekiV2, 0UL, 11UL)]
    [InlineData(HekiProfile.Hardened, 10UL, 11UL)]
    [InlineData(HekiProfile.HekiV2, 0UL, Top)]
    [InlineData(HekiProfile.Hardened, 9UL, 12UL)]
    public void Set_over_one_immutable_page_at_the_edge_is_refused_whole(HekiProfile profile, ulong start, ulong end)
    {
        var vm = WithImmutablePageAt10(profile);
        var before = vm.Store.Runs.ToList();
        Assert.Equal(Errno.EPERM, vm.PermissionsSet(start, end, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Equal(before, vm.Store.Runs.ToList());
        Assert.Equal(Errno.EPERM, vm.PermissionsSet(start, end, X, out _));
        Assert.Equal(R | W, vm.PermissionsGet(9));
        Assert.Equal(R | W, vm.PermissionsGet(11));
        Assert.Equal(R | Imm, vm.PermissionsGet(10));
        Assert.Equal(before, vm.Store.Runs.ToList());
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Even_an_identical_request_over_an_immutable_page_is_refused(HekiProfile profile)
    {
        var vm = WithImmutablePageAt10(profile);
        Assert.Equal(Errno.EPERM, vm.PermissionsSet(10, 11, R | Imm, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Equal(R | Imm, vm.PermissionsGet(10));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Ranges_that_only_touch_an_immutable_page_are_allowed(HekiProfile profile)
    {
        var vm = WithImmutablePageAt10(profile);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 10, X, out var below));
        Assert.Equal(new GfnRange(0, 10), below);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(11, 40, X, out var above));
        Assert.Equal(new GfnRange(11, 40), above);
        Assert.Equal(X, vm.PermissionsGet(9));
        Assert.Equal(X, vm.PermissionsGet(11));
        Assert.Equal(R | Imm, vm.PermissionsGet(10));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Setting_immutable_makes_every_later_change_to_that_page_EPERM(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(100, 101, R | X | Imm, out var changed));
        Assert.Equal(new GfnRange(100, 101), changed);
        foreach (var attr in new ulong[] { 0, R, Rwx, Imm, R | X | Imm, 0xF })
            Assert.Equal(Errno.EPERM, vm.PermissionsSet(0, 1000, attr, out _));
        Assert.Equal(R | X | Imm, vm.PermissionsGet(100));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Set_stores_the_bits_and_reports_the_changed_range(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(5, 9, R | X, out var changed));
        Assert.Equal(new GfnRange(5, 9), changed);
        Assert.Equal(R | X, vm.PermissionsGet(5));
        Assert.Equal(R | X, vm.PermissionsGet(8));
        Assert.Equal(Rwx, vm.PermissionsGet(9));
        Assert.Equal(0x50UL, vm.GetAttributes(5));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0UL)]
    [InlineData(HekiProfile.HekiV2, 0UL)]
    [InlineData(HekiProfile.Hardened, 123456UL)]
    [InlineData(HekiProfile.HekiV2, LastGfn)]
    public void A_gfn_without_attributes_gets_the_default_rwx(HekiProfile profile, ulong gfn)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Rwx, vm.PermissionsGet(gfn));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Heki_attr_zero_is_accepted_and_resets_the_page_to_rwx(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Set(vm, 0, 8, R);
        Assert.Equal(R, vm.PermissionsGet(3));
        Assert.Equal(Errno.Ok, vm.PermissionsSet(2, 6, 0, out var changed));
        Assert.Equal(new GfnRange(2, 6), changed);
        Assert.Equal(Rwx, vm.PermissionsGet(3));
        Assert.Equal(0UL, vm.GetAttributes(3));
        Assert.Equal(R, vm.PermissionsGet(6));
        Assert.Equal([new AttributeRun(0, 2, 0x10), new AttributeRun(6, 8, 0x10)], vm.Store.Runs.ToList());
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Heki_attr_zero_on_pages_without_entries_succeeds_and_changes_nothing(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, Top, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void An_entry_with_only_immutable_returns_8(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Set(vm, 0, 2, Rwx);
        Set(vm, 1, 3, Imm);
        Assert.Equal(Imm, vm.PermissionsGet(1));
        Assert.Equal(Imm, vm.PermissionsGet(2));
        Assert.Equal(Rwx, vm.PermissionsGet(0));
    }

    [Fact]
    public void A_private_only_word_gets_no_access_in_heki_v2()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0x4000, 0x1000, HekiAttributes.KvmPrivate, 0, out _));
        Assert.Equal(HekiAttributes.KvmPrivate, vm.GetAttributes(4));
        Assert.Equal(0UL, vm.PermissionsGet(4));
        Assert.Equal(Rwx, vm.PermissionsGet(5));
    }

    [Fact]
    public void A_private_only_word_gets_the_default_rwx_in_hardened()
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0x4000, 0x1000, HekiAttributes.KvmPrivate, 0, out _));
        Assert.Equal(HekiAttributes.KvmPrivate, vm.GetAttributes(4));
        Assert.Equal(Rwx, vm.PermissionsGet(4));
    }

    [Theory]
    [InlineData(HekiProfile.HekiV2, 0UL)]
    [InlineData(HekiProfile.Hardened, Rwx)]
    public void Resetting_a_private_page_to_zero_leaves_a_private_only_word(HekiProfile profile, ulong expected)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x2000, HekiAttributes.KvmPrivate, 0, out _));
        Set(vm, 0, 2, R);
        Assert.Equal(0x18UL, vm.GetAttributes(1));
        Assert.Equal(R, vm.PermissionsGet(1));
        Set(vm, 0, 2, 0);
        Assert.Equal(HekiAttributes.KvmPrivate, vm.GetAttributes(1));
        Assert.Equal(expected, vm.PermissionsGet(1));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Permissions_set_preserves_the_private_bit(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x4000, HekiAttributes.KvmPrivate, 0, out _));
        Set(vm, 1, 3, R | X | Imm);
        Assert.Equal(0xD8UL, vm.GetAttributes(2));
        Assert.Equal(R | X | Imm, vm.PermissionsGet(2));
        Assert.Equal(HekiAttributes.KvmPrivate, vm.GetAttributes(3));
    }

    [Theory]
    [InlineData(R | W, R)]
    [InlineData(Rwx, R | X)]
    [InlineData(R | X, R)]
    [InlineData(Rwx, R)]
    public void Pure_downgrade_is_silently_ignored_in_heki_v2(ulong from, ulong to)
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2);
        Set(vm, 0, 4, from);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, to, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Equal(from, vm.PermissionsGet(0));
        Assert.Equal(from, vm.PermissionsGet(3));
    }

    [Theory]
    [InlineData(R | W, R)]
    [InlineData(Rwx, R | X)]
    [InlineData(R | X, R)]
    [InlineData(Rwx, R)]
    public void Pure_downgrade_is_applied_in_hardened(ulong from, ulong to)
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened);
        Set(vm, 0, 4, from);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, to, out var changed));
        Assert.Equal(new GfnRange(0, 4), changed);
        Assert.Equal(to, vm.PermissionsGet(0));
        Assert.Equal(to, vm.PermissionsGet(3));
    }

    [Fact]
    public void Heki_v2_applies_a_downgrade_when_one_page_of_the_range_lacks_a_requested_bit()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2);
        Set(vm, 0, 3, Rwx);
        Set(vm, 3, 4, W);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, R, out var changed));
        Assert.Equal(new GfnRange(0, 4), changed);
        Assert.Equal(R, vm.PermissionsGet(0));
        Assert.Equal(R, vm.PermissionsGet(3));
    }

    [Fact]
    public void Heki_v2_downgrade_is_ignored_over_a_mixed_range_where_every_page_has_the_requested_bits()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2);
        Set(vm, 0, 2, Rwx);
        Set(vm, 2, 4, R | W);
        Set(vm, 4, 6, R);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 6, R, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Equal(Rwx, vm.PermissionsGet(0));
        Assert.Equal(R | W, vm.PermissionsGet(2));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, R | W, R | X)]
    [InlineData(HekiProfile.HekiV2, R | W, R | X)]
    [InlineData(HekiProfile.Hardened, R, R | W)]
    [InlineData(HekiProfile.HekiV2, R, Rwx)]
    [InlineData(HekiProfile.HekiV2, Rwx, Imm)]
    [InlineData(HekiProfile.HekiV2, Rwx, Rwx | Imm)]
    public void Upgrades_and_sideways_changes_are_applied_in_both_profiles(HekiProfile profile, ulong from, ulong to)
    {
        var vm = new VmMemoryAttributes(profile);
        Set(vm, 0, 4, from);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, to, out var changed));
        Assert.Equal(new GfnRange(0, 4), changed);
        Assert.Equal(to, vm.PermissionsGet(2));
    }

    [Fact]
    public void Heki_v2_setting_rwx_over_untouched_pages_creates_entries()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, Rwx, out var changed));
        Assert.Equal(new GfnRange(0, 4), changed);
        Assert.Equal(0x70UL, vm.GetAttributes(0));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Repeating_the_same_set_changes_nothing_the_second_time(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Set(vm, 0, 4, R | W);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, R | W, out var changed));
        Assert.True(changed.IsEmpty);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Permissions_of_a_word_follow_the_profile(HekiProfile profile)
    {
        Assert.Equal(Rwx, VmMemoryAttributes.PermissionsOf(0, profile));
        Assert.Equal(Imm, VmMemoryAttributes.PermissionsOf(0x80, profile));
        Assert.Equal(R | X, VmMemoryAttributes.PermissionsOf(0x58, profile));
        Assert.Equal(profile == HekiProfile.HekiV2 ? 0UL : Rwx, VmMemoryAttributes.PermissionsOf(0x08, profile));
        Assert.Equal(profile == HekiProfile.HekiV2 ? 0UL : Rwx, VmMemoryAttributes.PermissionsOf(1UL << 40, profile));
    }
}
