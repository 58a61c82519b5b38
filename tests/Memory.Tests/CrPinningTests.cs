using CsCheck;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Tests;

/// <summary>§7: KVM_HC_LOCK_CR_UPDATE in its check order, and the CR-write rule.</summary>
public class CrPinningTests
{
    private const ulong Wp = CrPinning.Cr0Wp;
    private const ulong Pe = 1;
    private const ulong Pg = 1UL << 31;
    private const ulong Smep = 1UL << 20;
    private const ulong Smap = 1UL << 21;
    private const ulong Umip = 1UL << 11;
    private const ulong FsGsBase = 1UL << 16;
    private const ulong Cet = 1UL << 23;
    private const ulong Pae = 1UL << 5;
    private const ulong Ts = 1UL << 3;
    private const ulong Nw = 1UL << 29;
    private const ulong Cd = 1UL << 30;

    private static readonly CrPins Start = new(Pe, Umip);

    private static (long Ret, CrPins Pins) Lock(ulong cr, ulong pin, ulong flags, CrPins current)
    {
        var ret = CrPinning.LockCrUpdate(cr, pin, flags, current, out var updated);
        return (ret, updated);
    }

    [Fact]
    public void Version_query_returns_1()
    {
        Assert.Equal((1L, Start), Lock(0, 0, 1, Start));
    }

    [Fact]
    public void Cr_above_32_bits_returns_einval_before_the_version_query()
    {
        Assert.Equal((-22L, Start), Lock(1UL << 32, 0, 1, Start));
        Assert.Equal((-22L, Start), Lock(ulong.MaxValue, Wp, 0, Start));
    }

    [Theory]
    [InlineData(0UL, Wp, 1UL)]
    [InlineData(4UL, 0UL, 1UL)]
    [InlineData(0UL, Wp, 2UL)]
    [InlineData(4UL, Smep, 0x8000_0000_0000_0000UL)]
    public void Non_zero_flags_other_than_the_version_query_return_einval(ulong cr, ulong pin, ulong flags)
    {
        Assert.Equal((-22L, Start), Lock(cr, pin, flags, Start));
    }

    [Fact]
    public void Flags_are_checked_before_the_register()
    {
        // cr 3 would also be refused, but a bad flag on cr 0 with pin 0 shows flags come before pin and cr checks.
        Assert.Equal((-22L, Start), Lock(0, 0, 2, Start));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(4UL)]
    [InlineData(3UL)]
    public void Zero_pin_returns_einval(ulong cr)
    {
        Assert.Equal((-22L, Start), Lock(cr, 0, 0, Start));
    }

    [Theory]
    [InlineData(Pe)]
    [InlineData(Pe | Pg)]
    [InlineData(Smep)]
    public void Cr0_pin_without_wp_returns_einval(ulong pin)
    {
        Assert.Equal((-22L, Start), Lock(0, pin, 0, Start));
    }

    [Fact]
    public void Cr0_pin_of_wp_is_added()
    {
        Assert.Equal((0L, new CrPins(Pe | Wp, Umip)), Lock(0, Wp, 0, Start));
    }

    [Fact]
    public void Cr0_bits_the_host_has_pinned_alongside_wp_are_accepted()
    {
        // §7: pin must include WP, and every bit of it must be set in the host's CR0 (0x80050033).
        Assert.Equal((0L, new CrPins(Wp | Pe | Pg, 0)), Lock(0, Wp | Pe | Pg, 0, CrPins.None));
        Assert.Equal((0L, new CrPins(CrPinning.HostCr0, 0)), Lock(0, CrPinning.HostCr0, 0, CrPins.None));
    }

    [Theory]
    [InlineData(Wp | Cd)]
    [InlineData(Wp | Ts)]
    [InlineData(Wp | Pe | Pg | Nw)]
    [InlineData(Wp | (1UL << 32))]
    [InlineData(ulong.MaxValue)]
    public void Cr0_pin_with_a_bit_the_host_cr0_lacks_returns_einval(ulong pin)
    {
        Assert.Equal((-22L, Start), Lock(0, pin, 0, Start));
    }

    [Fact]
    public void Host_cr0_is_pe_mp_et_ne_wp_am_pg()
    {
        const ulong mp = 1UL << 1, et = 1UL << 4, ne = 1UL << 5, am = 1UL << 18;
        Assert.Equal(Pe | mp | et | ne | Wp | am | Pg, CrPinning.HostCr0);
    }

    [Theory]
    [InlineData(Smep)]
    [InlineData(Smap)]
    [InlineData(Umip)]
    [InlineData(FsGsBase)]
    [InlineData(Cet)]
    [InlineData(Smep | Smap | Umip | FsGsBase | Cet)]
    public void Cr4_pin_within_the_five_pinnable_bits_is_added(ulong pin)
    {
        Assert.Equal((0L, new CrPins(0, pin)), Lock(4, pin, 0, CrPins.None));
    }

    [Theory]
    [InlineData(Pae)]
    [InlineData(Smep | Pae)]
    [InlineData(Wp | (1UL << 40))]
    public void Cr4_pin_with_a_bit_outside_the_pinnable_set_returns_einval(ulong pin)
    {
        Assert.Equal((-22L, Start), Lock(4, pin, 0, Start));
    }

    [Theory]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(8UL)]
    [InlineData(0xFFFF_FFFFUL)]
    public void Any_other_register_returns_einval(ulong cr)
    {
        Assert.Equal((-22L, Start), Lock(cr, Wp, 0, Start));
    }

    [Fact]
    public void Pins_only_ever_added()
    {
        var pins = CrPins.None;
        (_, pins) = Lock(0, Wp | Pe, 0, pins);
        (_, pins) = Lock(0, Wp, 0, pins);
        (_, pins) = Lock(4, Smep, 0, pins);
        (_, pins) = Lock(4, Smap, 0, pins);
        (_, pins) = Lock(4, Pae, 0, pins);
        Assert.Equal(new CrPins(Wp | Pe, Smep | Smap), pins);
    }

    [Fact]
    public void Pins_only_ever_grow_over_any_sequence_of_calls()
    {
        var interesting = Wp | Pe | Pg | CrPinning.Cr4Pinnable | Pae;
        var pin = Gen.OneOf(Gen.ULong, Gen.ULong.Select(x => x & interesting), Gen.Const(0UL));
        var call = Gen.Select(Gen.OneOf(Gen.ULong[0, 8], Gen.ULong), pin, Gen.ULong[0, 2]);
        call.Array[0, 20].Sample(calls =>
        {
            var pins = CrPins.None;
            foreach (var (cr, p, flags) in calls)
            {
                var ret = CrPinning.LockCrUpdate(cr, p, flags, pins, out var updated);
                Assert.Equal(pins.Cr0, updated.Cr0 & pins.Cr0);
                Assert.Equal(pins.Cr4, updated.Cr4 & pins.Cr4);
                if (ret != 0)
                    Assert.Equal(pins, updated);
                Assert.True(ret is 0 or 1 or -22);
                pins = updated;
            }
        });
    }

    [Fact]
    public void With_on_a_register_that_cannot_be_pinned_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CrPins.None.With(3, Wp));
    }

    [Fact]
    public void Cr_write_lacking_a_pinned_bit_is_blocked_even_if_the_register_never_had_it()
    {
        // Every CR of a new vCPU starts at 0; writing 0 again still lacks the pinned SMEP.
        var verdict = CrPinning.CrWriteCheck(4, 0, new CrPins(0, Smep));
        Assert.False(verdict.Allowed);
        Assert.True(verdict.InjectsGp);
        Assert.Equal(new WarningLine(WarningSite.BlockedCr, "heki: Blocked CR4 update: 0x0"), verdict.Warning);
    }

    [Fact]
    public void Cr0_write_clearing_pinned_wp_is_blocked_with_gp_and_warning()
    {
        var verdict = CrPinning.CrWriteCheck(0, 0x8000_0011, new CrPins(Wp, 0));
        Assert.Equal(new CrWriteVerdict(false, new WarningLine(WarningSite.BlockedCr, "heki: Blocked CR0 update: 0x80000011")), verdict);
        Assert.Equal((byte)13, CrWriteVerdict.GpVector);
        Assert.Equal(0u, CrWriteVerdict.GpErrorCode);
    }

    [Fact]
    public void Cr_write_keeping_pinned_bits_and_setting_others_is_allowed()
    {
        var pins = new CrPins(Wp, Smep | Smap);
        Assert.Equal(CrWriteVerdict.Allow, CrPinning.CrWriteCheck(0, Wp | Pe | Pg, pins));
        Assert.Equal(CrWriteVerdict.Allow, CrPinning.CrWriteCheck(4, Smep | Smap | Pae, pins));
        Assert.Null(CrPinning.CrWriteCheck(4, Smep | Smap, pins).Warning);
    }

    [Fact]
    public void Cr_write_lacking_one_of_several_pinned_bits_is_blocked()
    {
        Assert.False(CrPinning.CrWriteCheck(4, Smep | Pae, new CrPins(0, Smep | Smap)).Allowed);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Writes_to_other_registers_are_never_blocked(int cr)
    {
        Assert.True(CrPinning.CrWriteCheck(cr, 0, new CrPins(ulong.MaxValue, ulong.MaxValue)).Allowed);
    }

    [Fact]
    public void Cr0_pins_do_not_constrain_cr4_writes()
    {
        Assert.True(CrPinning.CrWriteCheck(4, 0, new CrPins(Wp, 0)).Allowed);
        Assert.True(CrPinning.CrWriteCheck(0, 0, new CrPins(0, Smep)).Allowed);
    }
}
