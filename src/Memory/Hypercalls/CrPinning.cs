using HekiActors.Memory;

namespace HekiActors.Memory.Hypercalls;

/// <summary>
/// A VM's pinned CR0 and CR4 bits (§7, patches 02–04). Pins are only ever added: <see cref="With"/> ORs and no
/// member can be assigned, so a <c>with</c> expression cannot drop one. The constructor exists for snapshot recovery.
/// </summary>
public readonly record struct CrPins
{
    public static readonly CrPins None = default;

    public CrPins(ulong cr0, ulong cr4)
    {
        Cr0 = cr0;
        Cr4 = cr4;
    }

    /// <summary>Bits every later CR0 value must keep.</summary>
    public ulong Cr0 { get; }

    /// <summary>Bits every later CR4 value must keep.</summary>
    public ulong Cr4 { get; }

    /// <summary>The pinned bits of a control register; 0 for every CR other than CR0 and CR4 (§7).</summary>
    public ulong PinnedFor(int cr) => cr switch
    {
        0 => Cr0,
        4 => Cr4,
        _ => 0,
    };

    /// <summary>These pins plus <paramref name="pin"/> on CR0 or CR4 (atomic_long_or, patch 02); never removes a bit.</summary>
    public CrPins With(ulong cr, ulong pin) => cr switch
    {
        0 => new CrPins(Cr0 | pin, Cr4),
        4 => new CrPins(Cr0, Cr4 | pin),
        _ => throw new ArgumentOutOfRangeException(nameof(cr), cr, "only CR0 and CR4 can be pinned"),
    };

    public override string ToString() => $"CrPins {{ Cr0 = 0x{Cr0:x}, Cr4 = 0x{Cr4:x} }}";
}

/// <summary>The answer to a guest CR write: allowed, or refused with #GP(0) and a warning (§7, patch 03).</summary>
public readonly record struct CrWriteVerdict(bool Allowed, WarningLine? Warning)
{
    /// <summary>#GP, the exception a refused write injects (error code <see cref="GpErrorCode"/>).</summary>
    public const byte GpVector = 13;

    public const uint GpErrorCode = 0;

    public static readonly CrWriteVerdict Allow = new(true, null);

    /// <summary>Whether the vCPU must inject #GP(0) and keep the register's old value.</summary>
    public bool InjectsGp => !Allowed;
}

/// <summary>The pure KVM_HC_LOCK_CR_UPDATE and CR-write rules (§7, patches 02–04).</summary>
public static class CrPinning
{
    /// <summary>Control registers CR0..CR15 exist on every vCPU; only CR0 and CR4 can be pinned.</summary>
    public const int ControlRegisterCount = 16;

    /// <summary>X86_CR0_WP: the bit a CR0 pin must include.</summary>
    public const ulong Cr0Wp = 1UL << 16;

    public const ulong Cr4Umip = 1UL << 11;
    public const ulong Cr4FsGsBase = 1UL << 16;
    public const ulong Cr4Smep = 1UL << 20;
    public const ulong Cr4Smap = 1UL << 21;
    public const ulong Cr4Cet = 1UL << 23;

    /// <summary>cr4_pinned_mask: the only CR4 bits a guest may pin.</summary>
    public const ulong Cr4Pinnable = Cr4Smep | Cr4Smap | Cr4Umip | Cr4FsGsBase | Cr4Cet;

    /// <summary>
    /// The modelled host's own CR0 (§7): PE, MP, ET, NE, WP, AM, PG. heki_lock_cr refuses a CR0 pin with a bit the
    /// host lacks, e.g. CD (bit 30) or TS (bit 3).
    /// </summary>
    public const ulong HostCr0 = 0x8005_0033;

    /// <summary>The modelled host's CR4 as far as pinning sees it: every pinnable bit, so <c>pin &amp;= host_cr4</c> drops nothing (§7).</summary>
    public const ulong HostCr4 = Cr4Pinnable;

    /// <summary>The flag that, with cr == 0 and pin == 0, asks for the ABI version.</summary>
    public const ulong VersionFlag = 1;

    /// <summary>The ABI version the version query returns.</summary>
    public const long AbiVersion = 1;

    /// <summary>
    /// KVM_HC_LOCK_CR_UPDATE(cr, pin, flags) per §7, checks in this order: cr above 32 bits → -EINVAL; the version
    /// query (flags 1, cr 0, pin 0) → 1 with no pin change; other non-zero flags → -EINVAL; pin 0 → -EINVAL;
    /// CR0 without WP in pin → -EINVAL; CR0 with a bit the host's CR0 (<see cref="HostCr0"/>) lacks → -EINVAL;
    /// CR4 with a bit outside <see cref="Cr4Pinnable"/> → -EINVAL; any other cr → -EINVAL. On 0, <paramref name="updated"/> is <paramref name="current"/> plus the pin; otherwise it is
    /// <paramref name="current"/> unchanged.
    /// </summary>
    /// <remarks>
    /// CR0: the RFC (heki_lock_cr) requires WP to be among the pinned bits and every pinned bit to be set in the
    /// host's own CR0 (<c>(pin &amp; host_cr0) != pin</c> → -EINVAL), so other host bits may be pinned alongside WP
    /// (e.g. WP|PE|PG) but not CD or TS. CR4: the RFC drops bits the host lacks (<c>pin &amp;= host_cr4</c>); the
    /// modelled host has all five, so the pin is kept whole.
    /// </remarks>
    public static long LockCrUpdate(ulong cr, ulong pin, ulong flags, CrPins current, out CrPins updated)
    {
        updated = current;
        if (cr > uint.MaxValue)
            return Errno.EINVAL;
        if (flags == VersionFlag && cr == 0 && pin == 0)
            return AbiVersion;
        if (flags != 0)
            return Errno.EINVAL;
        if (pin == 0)
            return Errno.EINVAL;
        switch (cr)
        {
            case 0:
                if ((pin & Cr0Wp) == 0)
                    return Errno.EINVAL;
                if ((pin & HostCr0) != pin)
                    return Errno.EINVAL;
                break;
            case 4:
                if ((pin & ~Cr4Pinnable) != 0)
                    return Errno.EINVAL;
                pin &= HostCr4;
                break;
            default:
                return Errno.EINVAL;
        }

        updated = current.With(cr, pin);
        return Errno.Ok;
    }

    /// <summary>
    /// A guest write of <paramref name="value"/> to CR<paramref name="cr"/> (§7, patch 03): refused when the value
    /// lacks a pinned bit, even one the register never had; setting other bits is allowed; CRs other than 0 and 4
    /// are never pinned.
    /// </summary>
    public static CrWriteVerdict CrWriteCheck(int cr, ulong value, CrPins pins)
    {
        var pinned = pins.PinnedFor(cr);
        if ((value & pinned) == pinned)
            return CrWriteVerdict.Allow;
        return new CrWriteVerdict(false, new WarningLine(WarningSite.BlockedCr, HekiWarnings.BlockedCr(cr, value)));
    }
}
