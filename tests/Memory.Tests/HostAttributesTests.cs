namespace HekiActors.Memory.Tests;

public class HostAttributesTests
{
    private const ulong Page = VmMemoryAttributes.PageSize;
    private const ulong Private = HekiAttributes.KvmPrivate;
    private const ulong R = HekiAttributes.Read;
    private const ulong X = HekiAttributes.Exec;
    private const ulong Imm = HekiAttributes.Immutable;

    [Theory]
    [InlineData(HekiProfile.Hardened, 1UL)]
    [InlineData(HekiProfile.HekiV2, 1UL)]
    [InlineData(HekiProfile.Hardened, 1UL << 63)]
    public void Nonzero_flags_are_EINVAL(HekiProfile profile, ulong flags)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(0, Page, Private, flags, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Private_on_a_vm_without_private_memory_is_EINVAL(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: false);
        Assert.Equal(0UL, vm.SupportedAttributes);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(0, Page, Private, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0x10UL)]
    [InlineData(HekiProfile.HekiV2, 0x20UL)]
    [InlineData(HekiProfile.Hardened, 0x40UL)]
    [InlineData(HekiProfile.HekiV2, 0x80UL)]
    [InlineData(HekiProfile.Hardened, 0x18UL)]
    [InlineData(HekiProfile.HekiV2, 0xF8UL)]
    public void Any_heki_bit_is_EINVAL_from_the_host_even_on_a_private_vm(HekiProfile profile, ulong attributes)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Private, vm.SupportedAttributes);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(0, Page, attributes, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(4UL)]
    [InlineData(0x100UL)]
    [InlineData(1UL << 63)]
    public void Bits_the_vm_does_not_support_are_EINVAL(ulong attributes)
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened, privateMemory: true);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(0, Page, attributes | Private, 0, out _));
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0UL)]
    [InlineData(HekiProfile.HekiV2, 0x1000UL)]
    public void Size_zero_is_EINVAL(HekiProfile profile, ulong address)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(address, 0, Private, 0, out _));
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(address, 0, 0, 0, out _));
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(ulong.MaxValue - 0xFFF, 0x1000UL)]
    [InlineData(ulong.MaxValue - 0xFFF, 0x2000UL)]
    [InlineData(0x1000UL, ulong.MaxValue - 0xFFF)]
    [InlineData(0x8000_0000_0000_0000UL, 0x8000_0000_0000_0000UL)]
    public void An_address_plus_size_that_wraps_is_EINVAL(ulong address, ulong size)
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened, privateMemory: true);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(address, size, Private, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(1UL, 0x1000UL)]
    [InlineData(0x1800UL, 0x1000UL)]
    [InlineData(0x1000UL, 0xFFFUL)]
    [InlineData(0x1000UL, 0x1001UL)]
    [InlineData(0xFFFUL, 0x1001UL)]
    public void An_unaligned_address_or_size_is_EINVAL(ulong address, ulong size)
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2, privateMemory: true);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(address, size, Private, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void A_request_breaking_several_rules_is_EINVAL_and_changes_nothing(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(1, 0, 0x10, 1, out _));
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(ulong.MaxValue, ulong.MaxValue, Private, 0, out _));
        Assert.Equal(Errno.EINVAL, vm.SetMemoryAttributes(3, 5, 0x80, 0, out _));
        Assert.Empty(vm.Store.Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void A_valid_private_set_marks_the_pages_and_reports_the_changed_gfns(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0x5000, 0x3000, Private, 0, out var changed));
        Assert.Equal(new GfnRange(5, 8), changed);
        Assert.Equal([new AttributeRun(5, 8, Private)], vm.Store.Runs.ToList());
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Heki_bits_survive_a_host_private_change(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, R | X | Imm, out _));
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0x2000, 0x4000, Private, 0, out var set));
        Assert.Equal(new GfnRange(2, 6), set);
        Assert.Equal(0xD8UL, vm.GetAttributes(3));
        Assert.Equal(R | X | Imm, vm.PermissionsGet(3));
        Assert.Equal(0xD0UL, vm.GetAttributes(1));

        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x8000, 0, 0, out var cleared));
        Assert.Equal(new GfnRange(2, 6), cleared);
        Assert.Equal(0xD0UL, vm.GetAttributes(3));
        Assert.Equal(0UL, vm.GetAttributes(5));
        Assert.Equal(R | X | Imm, vm.PermissionsGet(3));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void The_host_may_change_private_on_immutable_pages(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(7, 8, Imm, out _));
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(7 * Page, Page, Private, 0, out var changed));
        Assert.Equal(new GfnRange(7, 8), changed);
        Assert.Equal(0x88UL, vm.GetAttributes(7));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void On_a_vm_without_private_memory_attributes_zero_is_accepted_and_changes_nothing(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: false);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 4, R, out _));
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x8000, 0, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Equal([new AttributeRun(0, 4, 0x10)], vm.Store.Runs.ToList());
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Setting_private_again_over_private_pages_changes_nothing(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x4000, Private, 0, out _));
        Assert.Equal(Errno.Ok, vm.PermissionsSet(1, 2, R, out _));
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x4000, Private, 0, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x6000, Private, 0, out var grown));
        Assert.Equal(new GfnRange(4, 6), grown);
        Assert.Equal(0x18UL, vm.GetAttributes(1));
    }

    [Fact]
    public void Heki_v2_host_clear_of_private_is_not_blocked_by_the_attrs_zero_quirk()
    {
        // heki-v2's early exit asks range_has(attrs = 0), i.e. "no entries": a range with entries is still cleared.
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x4000, Private, 0, out _));
        Assert.Equal(0UL, vm.PermissionsGet(2));
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0x2000, 0x1000, 0, 0, out var changed));
        Assert.Equal(new GfnRange(2, 3), changed);
        Assert.Equal(0UL, vm.GetAttributes(2));
        Assert.Equal(HekiAttributes.DefaultPermissions, vm.PermissionsGet(2));
        Assert.Equal(0UL, vm.PermissionsGet(3));
    }

    [Fact]
    public void Heki_v2_host_private_set_on_a_partly_private_range_marks_the_rest()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x2000, Private, 0, out _));
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, 0x4000, Private, 0, out var changed));
        Assert.Equal(new GfnRange(2, 4), changed);
        Assert.Equal([new AttributeRun(0, 4, Private)], vm.Store.Runs.ToList());
    }

    [Fact]
    public void The_whole_host_addressable_space_can_be_made_private()
    {
        var vm = new VmMemoryAttributes(HekiProfile.Hardened, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(0, ulong.MaxValue - 0xFFF, Private, 0, out var changed));
        Assert.Equal(new GfnRange(0, (1UL << 52) - 1), changed);
        Assert.Equal(Private, vm.GetAttributes(0));
        Assert.Equal(Private, vm.GetAttributes((1UL << 52) - 2));
        Assert.Equal(0UL, vm.GetAttributes((1UL << 52) - 1));
    }

    [Fact]
    public void The_highest_page_below_a_wrap_is_settable()
    {
        var vm = new VmMemoryAttributes(HekiProfile.HekiV2, privateMemory: true);
        Assert.Equal(Errno.Ok, vm.SetMemoryAttributes(ulong.MaxValue - 0x1FFF, Page, Private, 0, out var changed));
        Assert.Equal(new GfnRange((1UL << 52) - 2, (1UL << 52) - 1), changed);
    }
}
