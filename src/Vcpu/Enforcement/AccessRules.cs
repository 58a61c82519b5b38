using System.Runtime.CompilerServices;
using HekiActors.Memory;

namespace HekiActors.Vcpu.Enforcement;

/// <summary>Whether a guest access to a page with given heki permissions completes or faults (§6, patches 05, 06, 11).</summary>
public static class AccessRules
{
    /// <summary>
    /// The §6 rule, written out: a write needs W at any CPL; a kernel-mode (CPL 0–2) fetch needs X only on an MBEC
    /// VM, a CPL 3 fetch is always allowed (MBEC user bit) and without MBEC no fetch faults; a read is never
    /// enforced in heki-v2 and needs R at any CPL in hardened. <paramref name="cpl"/> is 0..3; only 3 is user mode.
    /// Bits of <paramref name="permissions"/> outside 0xF are ignored; IMMUTABLE grants nothing.
    /// On the fast path use a per-VM <see cref="PermissionTable"/>, which gives the same answers.
    /// </summary>
    public static bool IsPermitted(ulong permissions, AccessKind kind, int cpl, bool mbec, HekiProfile profile) => kind switch
    {
        AccessKind.Write => (permissions & HekiAttributes.Write) != 0,
        AccessKind.Exec => cpl == 3 || !mbec || (permissions & HekiAttributes.Exec) != 0,
        AccessKind.Read => profile == HekiProfile.HekiV2 || (permissions & HekiAttributes.Read) != 0,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown access kind"),
    };
}

/// <summary>
/// <see cref="AccessRules.IsPermitted"/> precomputed for one VM (its MBEC flag and profile) as a 64-bit mask:
/// 16 permission values × 4 access classes (read, write, kernel fetch, user fetch), bit
/// <c>permissions &lt;&lt; 2 | class</c>. A lookup is a shift and an AND, with no branch and no memory access
/// beyond the struct itself.
/// </summary>
public readonly record struct PermissionTable
{
    private const int ClassBits = 2;
    private const int UserExecClass = 3;

    private readonly ulong _allowed;

    /// <summary>Builds the table for a VM from the written-out rule. (<c>default</c> is a table that denies everything.)</summary>
    public PermissionTable(bool mbec, HekiProfile profile)
    {
        ulong allowed = 0;
        for (ulong permissions = 0; permissions <= HekiAttributes.Prot; permissions++)
        {
            var row = (int)permissions << ClassBits;
            if (AccessRules.IsPermitted(permissions, AccessKind.Read, 0, mbec, profile))
                allowed |= 1UL << (row | (int)AccessKind.Read);
            if (AccessRules.IsPermitted(permissions, AccessKind.Write, 0, mbec, profile))
                allowed |= 1UL << (row | (int)AccessKind.Write);
            if (AccessRules.IsPermitted(permissions, AccessKind.Exec, 0, mbec, profile))
                allowed |= 1UL << (row | (int)AccessKind.Exec);
            if (AccessRules.IsPermitted(permissions, AccessKind.Exec, 3, mbec, profile))
                allowed |= 1UL << (row | UserExecClass);
        }

        _allowed = allowed;
        Mbec = mbec;
        Profile = profile;
    }

    public bool Mbec { get; }

    public HekiProfile Profile { get; }

    /// <summary>The raw mask (bit <c>permissions &lt;&lt; 2 | class</c> set when the access completes).</summary>
    public ulong Mask => _allowed;

    /// <summary>
    /// The four access-class bits (read, write, kernel fetch, user fetch) allowed for <paramref name="permissions"/>,
    /// for testing many accesses on one translation with <see cref="Allows"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ClassesAllowed(ulong permissions) => (uint)(_allowed >> ((int)(permissions & HekiAttributes.Prot) << ClassBits)) & 0xF;

    /// <summary>Whether <paramref name="classesAllowed"/> (from <see cref="ClassesAllowed"/>) lets this access complete.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Allows(uint classesAllowed, AccessKind kind, int cpl)
    {
        var k = (int)kind;
        var cls = k + ((k >> 1) & (cpl == 3 ? 1 : 0));
        return ((classesAllowed >> cls) & 1) != 0;
    }

    /// <summary>Same answer as <see cref="AccessRules.IsPermitted"/> for this table's VM; <paramref name="cpl"/> is 0..3.</summary>
    public bool IsPermitted(ulong permissions, AccessKind kind, int cpl)
    {
        // Class = kind (Read 0, Write 1, Exec 2), plus 1 for a CPL 3 fetch: (kind >> 1) is 1 only for Exec.
        var k = (int)kind;
        var cls = k + ((k >> 1) & (cpl == 3 ? 1 : 0));
        var bit = ((int)(permissions & HekiAttributes.Prot) << ClassBits) | cls;
        return ((_allowed >> bit) & 1) != 0;
    }
}
