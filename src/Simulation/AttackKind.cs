namespace HekiActors.Simulation;

/// <summary>The attacker's techniques (heki-semantics.md: what Heki is meant to stop), in report order.</summary>
public enum AttackKind
{
    /// <summary>A kernel write primitive aimed at kernel text (immutable R-X).</summary>
    WriteKernelText,

    /// <summary>A kernel write primitive aimed at rodata (immutable R--).</summary>
    WriteRodata,

    /// <summary>Shellcode in a heap page, fetched in kernel mode: only MBEC can make data non-executable.</summary>
    ExecuteData,

    /// <summary>PROTECT_MEMORY asking to make an immutable text page writable, then a write to it.</summary>
    RelaxImmutable,

    /// <summary>PROTECT_MEMORY from user mode relaxing a page the kernel made read-only, then a write to it.</summary>
    RelaxMutableThenAbuse,

    /// <summary>A CR0/CR4 write clearing a pinned bit (WP, SMEP, SMAP).</summary>
    ClearPinnedCr,
}

/// <summary>Facts about <see cref="AttackKind"/>: the one vocabulary of scenario files, reports and recordings.</summary>
public static class AttackKinds
{
    public const int Count = 6;

    /// <summary>Every kind, in report order.</summary>
    public static readonly IReadOnlyList<AttackKind> All = Enum.GetValues<AttackKind>();

    /// <summary>The kind as scenario files (<c>attacks</c> keys) and reports write it, in snake_case.</summary>
    public static string Name(this AttackKind kind) => kind switch
    {
        AttackKind.WriteKernelText => "write_kernel_text",
        AttackKind.WriteRodata => "write_rodata",
        AttackKind.ExecuteData => "execute_data",
        AttackKind.RelaxImmutable => "relax_immutable",
        AttackKind.RelaxMutableThenAbuse => "relax_mutable_then_abuse",
        AttackKind.ClearPinnedCr => "clear_pinned_cr",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown attack kind"),
    };

    /// <summary>How many of <paramref name="kind"/> each VM suffers per round under <paramref name="mix"/>.</summary>
    public static int PerVmPerRound(this AttackMix mix, AttackKind kind) => kind switch
    {
        AttackKind.WriteKernelText => mix.WriteKernelText,
        AttackKind.WriteRodata => mix.WriteRodata,
        AttackKind.ExecuteData => mix.ExecuteData,
        AttackKind.RelaxImmutable => mix.RelaxImmutable,
        AttackKind.RelaxMutableThenAbuse => mix.RelaxMutableThenAbuse,
        AttackKind.ClearPinnedCr => mix.ClearPinnedCr,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown attack kind"),
    };
}
