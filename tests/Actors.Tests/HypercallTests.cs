using Akka.Event;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>KVM_HC_PROTECT_MEMORY (§5) and KVM_HC_LOCK_CR_UPDATE (§7) through the VM parent, VM and vCPU actors.</summary>
public class HypercallTests(ITestOutputHelper output) : ActorTestBase(output)
{
    private const long EPERM = Errno.EPERM;
    private const long E2BIG = Errno.E2BIG;
    private const long EFAULT = Errno.EFAULT;
    private const long EINVAL = Errno.EINVAL;
    private const long ENOSYS = Errno.ENOSYS;

    public static TheoryData<HekiProfile> Profiles => new() { HekiProfile.Hardened, HekiProfile.HekiV2 };

    // ---- PROTECT_MEMORY: per-range argument checks ----------------------------------------------------------

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Protect_with_an_unaligned_pa_or_epa_returns_EINVAL_and_changes_nothing(HekiProfile profile)
    {
        CreateVm("a", profile: profile);
        Assert.Equal(EINVAL, Protect("a", 0, new MemoryRange(0x10001, 0x12000, R)));
        Assert.Equal(EINVAL, Protect("a", 0, new MemoryRange(0x10000, 0x12001, R)));
        Assert.Equal(EINVAL, Protect("a", 1, new MemoryRange(0x10800, 0x12800, R)));
        Assert.Equal(7UL, Permissions("a", 0x10));
        Assert.Equal(7UL, Permissions("a", 0x11));
        Assert.Equal(AccessResult.Ok, Access("a", 1, 0x10000, AccessKind.Write));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Protect_with_permissions_0_or_a_bit_outside_0xF_returns_EINVAL_and_changes_nothing(HekiProfile profile)
    {
        CreateVm("a", profile: profile);
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x10, 0x12, 0)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x10, 0x12, 0x10)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x10, 0x12, 0x11)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x10, 0x12, 1UL << 63)));
        Assert.Equal(7UL, Permissions("a", 0x10));
        Assert.Equal(0UL, Attributes("a", 0x11));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Protect_with_epa_not_above_pa_returns_EINVAL(HekiProfile profile)
    {
        CreateVm("a", profile: profile);
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x10, 0x10, R)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x12, 0x10, R)));
        Assert.Equal(7UL, Permissions("a", 0x10));
        Assert.Equal(7UL, Permissions("a", 0x11));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Protect_overlapping_an_immutable_page_returns_EPERM_with_the_warning_and_changes_nothing(HekiProfile profile)
    {
        CreateVm("a", profile: profile);
        Assert.Equal(0, Protect("a", 0, Gfns(0x13, 0x14, R | I)));

        // Only one page of [0x10, 0x14) is immutable; even so nothing in the range changes.
        EventFilter.Warning(message: "kvm: heki: Guest tried to change immutable permission for GFNs 10-14").ExpectOne(() =>
        {
            Assert.Equal(EPERM, Protect("a", 1, Gfns(0x10, 0x14, R)));
            FlushWarnings();
        });
        // An identical request is refused too.
        Assert.Equal(EPERM, Protect("a", 0, Gfns(0x13, 0x14, R | I)));
        Assert.Equal(7UL, Permissions("a", 0x10));
        Assert.Equal(R | I, Permissions("a", 0x13));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void When_two_rules_apply_the_earlier_rules_code_wins(HekiProfile profile)
    {
        CreateVm("a", profile: profile);
        Assert.Equal(0, Protect("a", 0, Gfns(0x20, 0x30, R | I)));

        // Argument checks come before the immutable check.
        Assert.Equal(EINVAL, Protect("a", 0, new MemoryRange(0x20001, 0x30000, R)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x20, 0x30, 0)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x20, 0x30, 0x1F)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x30, 0x20, R)));
        // CPL != 0 comes before everything.
        Assert.Equal(EPERM, ProtectList("a", 0, [[new MemoryRange(0x20001, 0x30000, 0x10)]], cpl: 3));
        // In a list, the first failing range decides.
        Assert.Equal(EPERM, Protect("a", 0, Gfns(0x20, 0x21, R), Gfns(0x40, 0x41, 0)));
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x40, 0x41, 0), Gfns(0x20, 0x21, R)));
        Assert.Equal(R | I, Permissions("a", 0x20));
        Assert.Equal(7UL, Permissions("a", 0x40));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void An_empty_list_returns_0_and_changes_nothing(HekiProfile profile)
    {
        CreateVm("a", profile: profile);
        Assert.Equal(0, ProtectList("a", 0, []));
        Assert.Equal(0, ProtectList("a", 1, [[]]));
        Assert.Equal(0, ProtectList("a", 1, [[], []]));
        var status = Status("a");
        Assert.Equal(0, status.Runs);
        Assert.Equal(AccessResult.Ok, Access("a", 0, 0, AccessKind.Write));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Without_MBEC_a_range_lacking_EXEC_gets_EXEC_forced_and_the_warning(HekiProfile profile)
    {
        CreateVm("a", mbec: false, profile: profile);
        EventFilter.Warning(message: "heki: Clearing kernel exec depends on MBEC, which is disabled.").ExpectOne(() =>
        {
            Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R)));
            FlushWarnings();
        });
        Assert.Equal(R | X, Permissions("a", 0x10));

        // The request line shows the permissions after forcing.
        var lines = CapturePrinted(() => Assert.Equal(0, Protect("a", 0, Gfns(0x11, 0x12, R | W))));
        Assert.Equal(
            ["heki: Clearing kernel exec depends on MBEC, which is disabled.", "heki: Request to protect GFNs 11-12 with mutable permissions=rwx"],
            lines);
        Assert.Equal(R | W | X, Permissions("a", 0x11));
    }

    [Fact]
    public void With_MBEC_a_range_lacking_EXEC_is_stored_as_asked_without_the_warning()
    {
        CreateVm("a", mbec: true);
        var lines = CapturePrinted(() => Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R | I))));
        Assert.Equal(["heki: Request to protect GFNs 10-11 with immutable permissions=r__"], lines);
        Assert.Equal(R | I, Permissions("a", 0x10));
    }

    // ---- PROTECT_MEMORY: multi-range semantics per profile --------------------------------------------------

    [Fact]
    public void HekiV2_applies_ranges_in_order_and_stops_at_the_first_error_keeping_earlier_ranges()
    {
        CreateVm("a", profile: HekiProfile.HekiV2);
        Assert.Equal(0, Protect("a", 0, Gfns(0x20, 0x21, R | I)));
        Assert.Equal(EPERM, ProtectList("a", 0, [[Gfns(0x10, 0x12, R)], [Gfns(0x20, 0x21, R), Gfns(0x30, 0x31, R)]]));
        Assert.Equal(R, Permissions("a", 0x10));
        Assert.Equal(R, Permissions("a", 0x11));
        Assert.Equal(7UL, Permissions("a", 0x30));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));
    }

    [Fact]
    public void Hardened_applies_a_list_all_or_nothing_returning_the_first_error()
    {
        CreateVm("a", profile: HekiProfile.Hardened);
        Assert.Equal(0, Protect("a", 0, Gfns(0x20, 0x21, R | I)));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Write));
        Assert.Equal(EPERM, ProtectList("a", 0, [[Gfns(0x10, 0x12, R)], [Gfns(0x20, 0x21, R), Gfns(0x30, 0x31, R)]]));
        Assert.Equal(7UL, Permissions("a", 0x10));
        Assert.Equal(7UL, Permissions("a", 0x30));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Write));
        // A later invalid range also voids earlier valid ones.
        Assert.Equal(EINVAL, Protect("a", 0, Gfns(0x10, 0x12, R), Gfns(0x30, 0x31, 0)));
        Assert.Equal(7UL, Permissions("a", 0x10));
    }

    [Fact]
    public void Hardened_list_sees_its_own_earlier_ranges_and_cannot_undo_an_immutable_it_just_set()
    {
        CreateVm("a", profile: HekiProfile.Hardened);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x12, R | W), Gfns(0x10, 0x11, R)));
        Assert.Equal(R, Permissions("a", 0x10));
        Assert.Equal(R | W, Permissions("a", 0x11));

        Assert.Equal(EPERM, Protect("a", 0, Gfns(0x40, 0x41, R | I), Gfns(0x40, 0x41, R | W)));
        Assert.Equal(7UL, Permissions("a", 0x40));
    }

    [Fact]
    public void HekiV2_list_keeps_an_immutable_it_set_before_the_range_that_failed()
    {
        CreateVm("a", profile: HekiProfile.HekiV2);
        Assert.Equal(EPERM, Protect("a", 0, Gfns(0x40, 0x41, R | I), Gfns(0x40, 0x41, R | W)));
        Assert.Equal(R | I, Permissions("a", 0x40));
    }

    [Fact]
    public void HekiV2_silently_ignores_a_pure_downgrade_while_hardened_applies_it()
    {
        CreateVm("v2", profile: HekiProfile.HekiV2);
        CreateVm("hard", profile: HekiProfile.Hardened);
        foreach (var vm in new[] { "v2", "hard" })
            Assert.Equal(0, Protect(vm, 0, Gfns(0x10, 0x11, R | W | X)));
        foreach (var vm in new[] { "v2", "hard" })
            Assert.Equal(0, Protect(vm, 0, Gfns(0x10, 0x11, R | X)));
        Assert.Equal(R | W | X, Permissions("v2", 0x10));
        Assert.Equal(R | X, Permissions("hard", 0x10));
        Assert.Equal(AccessResult.Ok, Access("v2", 1, Gpa(0x10), AccessKind.Write));
        Assert.Equal(AccessResult.PageFault, Access("hard", 1, Gpa(0x10), AccessKind.Write));
    }

    private static MemoryRange[] DistinctPages(int count, ulong firstGfn, ulong permissions) =>
        Enumerable.Range(0, count).Select(i => Gfns(firstGfn + (ulong)(2 * i), firstGfn + (ulong)(2 * i) + 1, permissions)).ToArray();

    [Fact]
    public void Hardened_refuses_a_list_page_with_more_than_169_ranges_with_E2BIG_and_applies_nothing()
    {
        CreateVm("a", profile: HekiProfile.Hardened);
        var lines = CapturePrinted(() => Assert.Equal(E2BIG, ProtectList("a", 0, [DistinctPages(1, 0x1000, R), DistinctPages(170, 0x100, R)])));
        Assert.Empty(lines);
        Assert.Equal(7UL, Permissions("a", 0x100));
        Assert.Equal(7UL, Permissions("a", 0x1000));
        Assert.Equal(0, Status("a").Runs);

        // Exactly 169 is fine.
        Assert.Equal(0, ProtectList("a", 0, [DistinctPages(169, 0x100, R)]));
        Assert.Equal(R, Permissions("a", 0x100));
        Assert.Equal(R, Permissions("a", 0x100 + 2 * 168));
    }

    [Fact]
    public void HekiV2_processes_a_list_page_with_more_than_169_ranges_and_records_a_host_integrity_fault()
    {
        CreateVm("a", profile: HekiProfile.HekiV2);
        EventFilter.Error(contains: "host integrity fault").ExpectOne(() =>
            Assert.Equal(0, ProtectList("a", 0, [DistinctPages(170, 0x100, R)])));
        Assert.Equal(R, Permissions("a", 0x100));
        Assert.Equal(R, Permissions("a", 0x100 + 2 * 169));
    }

    [Fact]
    public void Hardened_refuses_more_than_1024_list_pages_with_E2BIG_and_applies_nothing()
    {
        CreateVm("a", profile: HekiProfile.Hardened);
        var pages = Enumerable.Range(0, 1025).Select(i => new[] { Gfns(0x100 + (ulong)(2 * i), 0x101 + (ulong)(2 * i), R) }).ToArray();
        Assert.Equal(E2BIG, ProtectList("a", 0, pages));
        Assert.Equal(7UL, Permissions("a", 0x100));
        Assert.Equal(0, Status("a").Runs);

        Assert.Equal(0, ProtectList("a", 0, pages[..1024]));
        Assert.Equal(R, Permissions("a", 0x100));
        Assert.Equal(R, Permissions("a", 0x100 + 2 * 1023));
        Assert.Equal(7UL, Permissions("a", 0x100 + 2 * 1024));
    }

    // ---- LOCK_CR_UPDATE --------------------------------------------------------------------------------------

    [Theory]
    [InlineData(1UL << 32, CrPinning.Cr0Wp, 0UL, -22L)]
    [InlineData(1UL << 32, 0UL, 1UL, -22L)] // cr too big beats the version query
    [InlineData(0UL, 0UL, 1UL, 1L)] // the version query
    [InlineData(0UL, CrPinning.Cr0Wp, 1UL, -22L)]
    [InlineData(4UL, 0UL, 1UL, -22L)]
    [InlineData(0UL, CrPinning.Cr0Wp, 2UL, -22L)]
    [InlineData(4UL, CrPinning.Cr4Smep, 0x8000_0000UL, -22L)]
    [InlineData(0UL, 0UL, 0UL, -22L)] // pin 0
    [InlineData(4UL, 0UL, 0UL, -22L)]
    [InlineData(0UL, 1UL, 0UL, -22L)] // CR0 without WP
    [InlineData(0UL, (1UL << 31) | 1UL, 0UL, -22L)]
    [InlineData(0UL, CrPinning.Cr0Wp, 0UL, 0L)]
    [InlineData(0UL, CrPinning.Cr0Wp | (1UL << 31) | 1UL, 0UL, 0L)]
    [InlineData(0UL, CrPinning.Cr0Wp | (1UL << 30), 0UL, -22L)] // CD: the host's CR0 lacks it
    [InlineData(0UL, CrPinning.Cr0Wp | (1UL << 3), 0UL, -22L)] // TS
    [InlineData(4UL, CrPinning.Cr4Pinnable, 0UL, 0L)]
    [InlineData(4UL, CrPinning.Cr4Smep | (1UL << 5), 0UL, -22L)] // PAE is not pinnable
    [InlineData(4UL, 1UL << 22, 0UL, -22L)]
    [InlineData(3UL, 1UL, 0UL, -22L)] // any other cr
    [InlineData(8UL, 1UL, 0UL, -22L)]
    [InlineData(0xFFFF_FFFFUL, CrPinning.Cr0Wp, 0UL, -22L)]
    public void LockCr_checks_its_arguments_in_order(ulong cr, ulong pin, ulong flags, long expected)
    {
        CreateVm("a");
        Assert.Equal(expected, LockCr("a", 0, cr, pin, flags));
        var status = Status("a");
        if (expected == 0)
        {
            Assert.Equal(cr == 0 ? pin : 0, status.Cr0Pins);
            Assert.Equal(cr == 4 ? pin : 0, status.Cr4Pins);
        }
        else
        {
            Assert.Equal(0UL, status.Cr0Pins);
            Assert.Equal(0UL, status.Cr4Pins);
        }
    }

    [Fact]
    public void Pins_are_only_ever_added()
    {
        CreateVm("a");
        Assert.Equal(0, LockCr("a", 0, 4, Cr4Smep));
        Assert.Equal(0, LockCr("a", 1, 4, Cr4Smap));
        Assert.Equal(0, LockCr("a", 0, 4, Cr4Smep));
        Assert.Equal(EINVAL, LockCr("a", 0, 4, Cr4Pae));
        Assert.Equal(1, LockCr("a", 0, 0, 0, flags: 1));
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));
        var status = Status("a");
        Assert.Equal(Cr4Smep | Cr4Smap, status.Cr4Pins);
        Assert.Equal(Cr0Wp, status.Cr0Pins);

        // Both earlier pins still bind: dropping either is refused.
        Assert.True(WriteCr("a", 1, 4, Cr4Smep | Cr4Smap | Cr4Pae));
        Assert.False(WriteCr("a", 1, 4, Cr4Smap | Cr4Pae));
        Assert.False(WriteCr("a", 1, 4, Cr4Smep | Cr4Pae));
        Assert.Equal(Cr4Smep | Cr4Smap | Cr4Pae, ReadCr("a", 1, 4));
    }

    [Fact]
    public void A_CR0_write_lacking_a_pinned_bit_injects_GP_keeps_the_register_and_warns()
    {
        CreateVm("a");
        Assert.True(WriteCr("a", 1, 0, Cr0Pe | Cr0Wp | Cr0Pg));
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));

        EventFilter.Warning(message: "heki: Blocked CR0 update: 0x80000001").ExpectOne(() =>
        {
            Assert.False(WriteCr("a", 1, 0, Cr0Pe | Cr0Pg));
            FlushWarnings();
        });
        Assert.Equal(Cr0Pe | Cr0Wp | Cr0Pg, ReadCr("a", 1, 0));
    }

    [Fact]
    public void A_CR4_write_lacking_a_pinned_bit_is_refused_even_if_the_register_never_had_it()
    {
        CreateVm("a");
        Assert.Equal(0UL, ReadCr("a", 1, 4));
        Assert.Equal(0, LockCr("a", 0, 4, Cr4Smep));
        EventFilter.Warning(message: "heki: Blocked CR4 update: 0x20").ExpectOne(() =>
        {
            Assert.False(WriteCr("a", 1, 4, Cr4Pae));
            FlushWarnings();
        });
        Assert.Equal(0UL, ReadCr("a", 1, 4));
    }

    [Fact]
    public void Setting_other_bits_alongside_the_pinned_ones_is_allowed_and_read_cr_returns_it()
    {
        CreateVm("a");
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));
        Assert.Equal(0, LockCr("a", 0, 4, Cr4Smep));
        var lines = CapturePrinted(() =>
        {
            Assert.True(WriteCr("a", 1, 0, Cr0Wp | Cr0Pe | Cr0Pg));
            Assert.True(WriteCr("a", 1, 4, Cr4Smep | Cr4Pae));
            Assert.True(WriteCr("a", 0, 0, Cr0Wp));
        });
        Assert.Empty(lines);
        Assert.Equal(Cr0Wp | Cr0Pe | Cr0Pg, ReadCr("a", 1, 0));
        Assert.Equal(Cr4Smep | Cr4Pae, ReadCr("a", 1, 4));
        Assert.Equal(Cr0Wp, ReadCr("a", 0, 0));
        // Registers are per vCPU.
        Assert.Equal(0UL, ReadCr("a", 0, 4));
    }

    [Fact]
    public void Control_registers_other_than_CR0_and_CR4_are_never_pinned()
    {
        CreateVm("a");
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));
        Assert.Equal(0, LockCr("a", 0, 4, CrPinning.Cr4Pinnable));
        Assert.True(WriteCr("a", 1, 3, 0x1234_5000));
        Assert.True(WriteCr("a", 1, 3, 0));
        Assert.True(WriteCr("a", 1, 8, 0xF));
        Assert.Equal(0UL, ReadCr("a", 1, 3));
        Assert.Equal(0xFUL, ReadCr("a", 1, 8));
    }

    [Fact]
    public void A_CR_write_or_read_of_a_register_that_does_not_exist_is_rejected()
    {
        CreateVm("a");
        Assert.IsType<CommandRejected>(Request(new GuestWriteCr("a", 0, Guid.NewGuid(), 16, 1)));
        Assert.IsType<CommandRejected>(Request(new GuestReadCr("a", 0, -1)));
    }

    // ---- generic hypercall rules -----------------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Hypercalls_from_CPL_other_than_0_return_EPERM_before_anything_else(byte cpl)
    {
        CreateVm("a");
        Assert.Equal(EPERM, ProtectList("a", 0, [[Gfns(0x10, 0x11, R)]], cpl: cpl));
        Assert.Equal(EPERM, ProtectList("a", 0, [[new MemoryRange(1, 0, 0x100)]], cpl: cpl));
        Assert.Equal(EPERM, LockCr("a", 1, 0, Cr0Wp, cpl: cpl));
        Assert.Equal(EPERM, LockCr("a", 1, 1UL << 40, 0, flags: 7, cpl: cpl));
        Assert.Equal(EPERM, Hypercall("a", 0, HypercallNumbers.KVM_HC_LOCK_CR_UPDATE, 0, Cr0Wp, 0, cpl));
        Assert.Equal(EPERM, Hypercall("a", 0, HypercallNumbers.KVM_HC_PROTECT_MEMORY, cpl: cpl));
        Assert.Equal(EPERM, Hypercall("a", 0, 99, cpl: cpl));
        Assert.Equal(7UL, Permissions("a", 0x10));
        var status = Status("a");
        Assert.Equal(0UL, status.Cr0Pins);
        Assert.Equal(0, status.Runs);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(12UL)]
    [InlineData(15UL)]
    [InlineData(99UL)]
    [InlineData(ulong.MaxValue)]
    public void Unknown_hypercall_numbers_return_ENOSYS(ulong nr)
    {
        CreateVm("a");
        Assert.Equal(ENOSYS, Hypercall("a", 1, nr, 0, Cr0Wp, 0));
        Assert.Equal(0UL, Status("a").Cr0Pins);
    }

    [Fact]
    public void The_raw_LOCK_CR_UPDATE_hypercall_runs_the_same_rules()
    {
        CreateVm("a");
        Assert.Equal(1, Hypercall("a", 0, HypercallNumbers.KVM_HC_LOCK_CR_UPDATE, 0, 0, 1));
        Assert.Equal(EINVAL, Hypercall("a", 0, HypercallNumbers.KVM_HC_LOCK_CR_UPDATE, 0, 1, 0));
        Assert.Equal(0, Hypercall("a", 0, HypercallNumbers.KVM_HC_LOCK_CR_UPDATE, 0, Cr0Wp, 0));
        Assert.Equal(Cr0Wp, Status("a").Cr0Pins);
        // The raw PROTECT_MEMORY carries no list pages to read: -EFAULT.
        Assert.Equal(EFAULT, Hypercall("a", 0, HypercallNumbers.KVM_HC_PROTECT_MEMORY, 0x1000, 0, 0));
    }
}
