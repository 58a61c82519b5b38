using HekiActors.Memory;
using HekiActors.Vcpu.Enforcement;

namespace HekiActors.Vcpu.Tests;

/// <summary>§6: which guest accesses complete, per profile, MBEC and CPL.</summary>
public class AccessRulesTests
{
    private const ulong R = HekiAttributes.Read;
    private const ulong W = HekiAttributes.Write;
    private const ulong X = HekiAttributes.Exec;
    private const ulong I = HekiAttributes.Immutable;

    public static TheoryData<HekiProfile, bool, int> EveryVmAndCpl()
    {
        var data = new TheoryData<HekiProfile, bool, int>();
        foreach (var profile in new[] { HekiProfile.Hardened, HekiProfile.HekiV2 })
            foreach (var mbec in new[] { false, true })
                for (var cpl = 0; cpl <= 3; cpl++)
                    data.Add(profile, mbec, cpl);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryVmAndCpl))]
    public void Write_without_w_faults_at_every_cpl(HekiProfile profile, bool mbec, int cpl)
    {
        Assert.False(AccessRules.IsPermitted(R | X, AccessKind.Write, cpl, mbec, profile));
        Assert.False(AccessRules.IsPermitted(R | X | I, AccessKind.Write, cpl, mbec, profile));
        Assert.True(AccessRules.IsPermitted(W, AccessKind.Write, cpl, mbec, profile));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, 0)]
    [InlineData(HekiProfile.Hardened, 1)]
    [InlineData(HekiProfile.Hardened, 2)]
    [InlineData(HekiProfile.HekiV2, 0)]
    [InlineData(HekiProfile.HekiV2, 2)]
    public void Kernel_fetch_without_x_faults_on_an_mbec_vm(HekiProfile profile, int cpl)
    {
        Assert.False(AccessRules.IsPermitted(R | W, AccessKind.Exec, cpl, mbec: true, profile));
        Assert.True(AccessRules.IsPermitted(X, AccessKind.Exec, cpl, mbec: true, profile));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, true)]
    [InlineData(HekiProfile.Hardened, false)]
    [InlineData(HekiProfile.HekiV2, true)]
    [InlineData(HekiProfile.HekiV2, false)]
    public void Cpl3_exec_is_always_allowed(HekiProfile profile, bool mbec)
    {
        for (ulong permissions = 0; permissions <= 0xF; permissions++)
            Assert.True(AccessRules.IsPermitted(permissions, AccessKind.Exec, 3, mbec, profile));
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Without_mbec_no_fetch_ever_faults(HekiProfile profile)
    {
        for (var cpl = 0; cpl <= 3; cpl++)
            for (ulong permissions = 0; permissions <= 0xF; permissions++)
                Assert.True(AccessRules.IsPermitted(permissions, AccessKind.Exec, cpl, mbec: false, profile));
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, 3)]
    public void Heki_v2_never_enforces_read(bool mbec, int cpl)
    {
        for (ulong permissions = 0; permissions <= 0xF; permissions++)
            Assert.True(AccessRules.IsPermitted(permissions, AccessKind.Read, cpl, mbec, HekiProfile.HekiV2));
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 3)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(true, 3)]
    public void Hardened_read_without_r_faults_at_any_cpl(bool mbec, int cpl)
    {
        Assert.False(AccessRules.IsPermitted(W | X, AccessKind.Read, cpl, mbec, HekiProfile.Hardened));
        Assert.True(AccessRules.IsPermitted(R, AccessKind.Read, cpl, mbec, HekiProfile.Hardened));
    }

    [Fact]
    public void Immutable_only_page_grants_no_kernel_access_on_a_hardened_mbec_vm()
    {
        Assert.False(AccessRules.IsPermitted(I, AccessKind.Read, 0, true, HekiProfile.Hardened));
        Assert.False(AccessRules.IsPermitted(I, AccessKind.Write, 0, true, HekiProfile.Hardened));
        Assert.False(AccessRules.IsPermitted(I, AccessKind.Exec, 0, true, HekiProfile.Hardened));
    }

    [Theory]
    [MemberData(nameof(EveryVmAndCpl))]
    public void Default_rwx_allows_every_access(HekiProfile profile, bool mbec, int cpl)
    {
        foreach (var kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Exec })
            Assert.True(AccessRules.IsPermitted(HekiAttributes.DefaultPermissions, kind, cpl, mbec, profile));
    }

    [Fact]
    public void Permission_table_gives_the_rule_answer_for_every_input()
    {
        foreach (var profile in new[] { HekiProfile.Hardened, HekiProfile.HekiV2 })
        {
            foreach (var mbec in new[] { false, true })
            {
                var table = new PermissionTable(mbec, profile);
                Assert.Equal(mbec, table.Mbec);
                Assert.Equal(profile, table.Profile);
                for (ulong permissions = 0; permissions <= 0x3F; permissions++)
                    foreach (var kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Exec })
                        for (var cpl = 0; cpl <= 3; cpl++)
                            Assert.Equal(
                                AccessRules.IsPermitted(permissions, kind, cpl, mbec, profile),
                                table.IsPermitted(permissions, kind, cpl));
            }
        }
    }

    [Fact]
    public void Permission_table_of_the_most_permissive_vm_denies_only_writes_without_w()
    {
        // heki-v2 without MBEC: only W is ever enforced, so the mask is exactly the rows' write bits being W.
        var table = new PermissionTable(mbec: false, HekiProfile.HekiV2);
        for (ulong permissions = 0; permissions <= 0xF; permissions++)
        {
            var row = (table.Mask >> (int)(permissions << 2)) & 0xF;
            Assert.Equal((permissions & W) != 0 ? 0xFUL : 0xDUL, row);
        }
    }

    [Fact]
    public void Default_permission_table_denies_everything()
    {
        Assert.Equal(0UL, default(PermissionTable).Mask);
        Assert.False(default(PermissionTable).IsPermitted(HekiAttributes.DefaultPermissions, AccessKind.Read, 0));
    }
}

public class PermissionTableClassesTests
{
    [Theory]
    [InlineData(true, HekiProfile.Hardened)]
    [InlineData(false, HekiProfile.Hardened)]
    [InlineData(true, HekiProfile.HekiV2)]
    [InlineData(false, HekiProfile.HekiV2)]
    public void Classes_allowed_per_translation_give_the_rule_s_answer_for_every_access(bool mbec, HekiProfile profile)
    {
        var table = new PermissionTable(mbec, profile);
        for (ulong permissions = 0; permissions < 16; permissions++)
        {
            var classes = table.ClassesAllowed(permissions);
            foreach (var kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Exec })
                for (var cpl = 0; cpl <= 3; cpl++)
                    Assert.Equal(AccessRules.IsPermitted(permissions, kind, cpl, mbec, profile), PermissionTable.Allows(classes, kind, cpl));
        }
    }
}
