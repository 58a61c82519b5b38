namespace HekiActors.Memory.Tests;

public class WarningTextTests
{
    [Theory]
    [InlineData(0x10UL, 0x20UL, "kvm: heki: Guest tried to change immutable permission for GFNs 10-20")]
    [InlineData(0xABCDEFUL, 0xABCDF0UL, "kvm: heki: Guest tried to change immutable permission for GFNs abcdef-abcdf0")]
    [InlineData(0UL, 1UL, "kvm: heki: Guest tried to change immutable permission for GFNs 0-1")]
    [InlineData(0xFFFFFFFFFFFFFFFEUL, 0xFFFFFFFFFFFFFFFFUL,
        "kvm: heki: Guest tried to change immutable permission for GFNs fffffffffffffffe-ffffffffffffffff")]
    public void Immutable_change_warning_names_the_gfn_range_in_unpadded_lower_case_hex(ulong start, ulong end, string expected)
    {
        Assert.Equal(expected, HekiWarnings.ImmutableChange(start, end));
    }

    [Theory]
    [InlineData(AccessKind.Write, 0xDEADB000UL, 0xDEADBUL, "heki: Creating write #PF at 0x00000000deadb000 GFN=deadb")]
    [InlineData(AccessKind.Exec, 0x1000UL, 0x1UL, "heki: Creating fetch #PF at 0x0000000000001000 GFN=1")]
    [InlineData(AccessKind.Read, 0UL, 0UL, "heki: Creating read #PF at 0x0000000000000000 GFN=0")]
    [InlineData(AccessKind.Write, 0xFFFFFFFFFFFFF000UL, 0xFFFFFFFFFFFFFUL,
        "heki: Creating write #PF at 0xfffffffffffff000 GFN=fffffffffffff")]
    [InlineData(AccessKind.Exec, 0xABCDEF012345UL, 0xABCDEF012UL, "heki: Creating fetch #PF at 0x0000abcdef012345 GFN=abcdef012")]
    public void Fault_warning_pads_the_gva_to_16_digits_and_leaves_the_gfn_unpadded(AccessKind kind, ulong gva, ulong gfn, string expected)
    {
        Assert.Equal(expected, HekiWarnings.Fault(kind, gva, gfn));
    }

    [Theory]
    [InlineData(AccessKind.Read, "read")]
    [InlineData(AccessKind.Write, "write")]
    [InlineData(AccessKind.Exec, "fetch")]
    public void Access_kind_verbs_are_the_kernel_words(AccessKind kind, string verb)
    {
        Assert.Equal(verb, kind.Verb());
    }

    [Theory]
    [InlineData(0, 0x80000011UL, "heki: Blocked CR0 update: 0x80000011")]
    [InlineData(4, 0x3506F0UL, "heki: Blocked CR4 update: 0x3506f0")]
    [InlineData(0, 0UL, "heki: Blocked CR0 update: 0x0")]
    [InlineData(4, 0xFFFFFFFFFFFFFFFFUL, "heki: Blocked CR4 update: 0xffffffffffffffff")]
    public void Blocked_cr_warning_names_the_register_and_the_value_in_lower_case_hex(int cr, ulong value, string expected)
    {
        Assert.Equal(expected, HekiWarnings.BlockedCr(cr, value));
    }

    [Fact]
    public void Clearing_exec_warning_is_the_kernel_text()
    {
        Assert.Equal("heki: Clearing kernel exec depends on MBEC, which is disabled.", HekiWarnings.ClearingExecNeedsMbec);
    }

    [Theory]
    [InlineData(0UL, "mutable permissions=___")]
    [InlineData(1UL, "mutable permissions=r__")]
    [InlineData(2UL, "mutable permissions=_w_")]
    [InlineData(3UL, "mutable permissions=rw_")]
    [InlineData(4UL, "mutable permissions=__x")]
    [InlineData(5UL, "mutable permissions=r_x")]
    [InlineData(6UL, "mutable permissions=_wx")]
    [InlineData(7UL, "mutable permissions=rwx")]
    [InlineData(8UL, "immutable permissions=___")]
    [InlineData(9UL, "immutable permissions=r__")]
    [InlineData(10UL, "immutable permissions=_w_")]
    [InlineData(11UL, "immutable permissions=rw_")]
    [InlineData(12UL, "immutable permissions=__x")]
    [InlineData(13UL, "immutable permissions=r_x")]
    [InlineData(14UL, "immutable permissions=_wx")]
    [InlineData(15UL, "immutable permissions=rwx")]
    public void Protect_request_line_renders_every_permission_value(ulong permissions, string tail)
    {
        Assert.Equal($"heki: Request to protect GFNs abc-def with {tail}", HekiWarnings.ProtectRequest(0xABC, 0xDEF, permissions));
    }

    [Fact]
    public void Protect_request_line_uses_unpadded_lower_case_hex_gfns()
    {
        Assert.Equal("heki: Request to protect GFNs 0-fffffffffffff with mutable permissions=r_x",
            HekiWarnings.ProtectRequest(0, 0xFFFFFFFFFFFFF, 5));
    }

    [Theory]
    [InlineData(0UL, "___")]
    [InlineData(1UL, "r__")]
    [InlineData(6UL, "_wx")]
    [InlineData(7UL, "rwx")]
    [InlineData(15UL, "rwx")]
    public void Permission_rendering_ignores_the_immutable_bit(ulong attr, string expected)
    {
        Assert.Equal(expected, HekiAttributes.Format(attr));
    }

    [Theory]
    [InlineData(HekiWarnings.PermissionsSetSite, 1L, "kvm_permissions_set: 1 callbacks suppressed")]
    [InlineData(HekiWarnings.FaultSite, 42L, "mem_attr_fault: 42 callbacks suppressed")]
    [InlineData(HekiWarnings.CrSite, 1000000L, "heki_check_cr: 1000000 callbacks suppressed")]
    [InlineData(HekiWarnings.ProtectMemorySite, 7L, "heki_protect_memory: 7 callbacks suppressed")]
    public void Suppressed_notice_is_function_count_and_callbacks_suppressed(string function, long count, string expected)
    {
        Assert.Equal(expected, HekiWarnings.Suppressed(function, count));
    }

    [Fact]
    public void Call_site_functions_are_the_kernel_function_names()
    {
        Assert.Equal("kvm_permissions_set", HekiWarnings.PermissionsSetSite);
        Assert.Equal("mem_attr_fault", HekiWarnings.FaultSite);
        Assert.Equal("heki_check_cr", HekiWarnings.CrSite);
        Assert.Equal("heki_protect_memory", HekiWarnings.ProtectMemorySite);
    }

    /// <summary>A range's line keeps its numbers and is formatted when read (issue 11): the same text, equal to the text-built line.</summary>
    [Fact]
    public void A_range_line_formats_the_kernels_text_when_read_and_equals_the_same_line_built_from_text()
    {
        var request = WarningLine.ProtectRequest(0x10, 0x20, HekiAttributes.Read | HekiAttributes.Exec | HekiAttributes.Immutable);
        var immutable = WarningLine.ImmutableChange(0xabc, 0xac0);

        Assert.False(request.HasText);
        Assert.Equal(HekiWarnings.ProtectRequest(0x10, 0x20, HekiAttributes.Read | HekiAttributes.Exec | HekiAttributes.Immutable), request.Text);
        Assert.Equal("kvm: heki: Guest tried to change immutable permission for GFNs abc-ac0", immutable.Text);
        Assert.Equal(new WarningLine(WarningSite.ProtectRequest, request.Text), request);
        Assert.Equal(new WarningLine(WarningSite.ImmutableChange, immutable.Text).GetHashCode(), immutable.GetHashCode());
        Assert.NotEqual(new WarningLine(WarningSite.ImmutableChange, request.Text), request); // another site
        Assert.Throws<ArgumentOutOfRangeException>(() => WarningLine.Render(WarningSite.Fault, 1, 2, 0));
    }
}
