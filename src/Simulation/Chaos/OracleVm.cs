using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Memory.Reference;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// What the oracle knows of one VM from acknowledged operations: two plain per-gfn reference stores and the
/// acknowledged CR pins and values. <see cref="Intent"/> holds what the guest was told is in force (every
/// acknowledged change applied as asked, a failed list applying nothing: the hardened rules); <see cref="Rfc"/>
/// holds what the profile's rules make of the same requests (under heki-v2 it drops downgrades and keeps the
/// ranges before a failing one). Where they differ, <see cref="Taints"/> says which defect made them differ.
/// </summary>
internal sealed class OracleVm
{
    private const ulong HostCr4Mask = (1UL << 20) | (1UL << 21) | (1UL << 11) | (1UL << 16) | (1UL << 23);

    public OracleVm(string id, ulong memoryPages, int vcpus, bool mbec, bool privateMemory, HekiProfile profile)
    {
        Id = id;
        MemoryPages = memoryPages;
        Vcpus = vcpus;
        Mbec = mbec;
        Profile = profile;
        Intent = new ReferenceVmMemory(HekiProfile.Hardened, privateMemory);
        Rfc = new ReferenceVmMemory(profile, privateMemory);
        ControlRegisters = new ulong[vcpus, 16];
    }

    public string Id { get; }
    public ulong MemoryPages { get; }
    public int Vcpus { get; }
    public bool Mbec { get; }
    public HekiProfile Profile { get; }
    public ReferenceVmMemory Intent { get; private set; }
    public ReferenceVmMemory Rfc { get; private set; }
    public ulong Cr0Pins { get; private set; }
    public ulong Cr4Pins { get; private set; }
    public ulong[,] ControlRegisters { get; }

    /// <summary>Ranges where a defect made <see cref="Rfc"/> differ from <see cref="Intent"/>, latest last.</summary>
    public List<(ulong Start, ulong End, Defect Defect)> Taints { get; } = [];

    /// <summary>Ranges named by failed multi-range lists (latest last): a later difference there is invariant 4's.</summary>
    public List<(ulong Start, ulong End)> FailedBatches { get; } = [];

    /// <summary>kvm_permissions_get from a word, under the VM's profile (§3).</summary>
    public ulong PermissionsOf(ulong word)
    {
        var present = Profile == HekiProfile.HekiV2 ? word != 0 : (word & 0xF0) != 0;
        return present ? (word >> 4) & 0xF : 7;
    }

    /// <summary>Whether an access with these permissions completes (§6).</summary>
    public bool Allows(ulong permissions, AccessKind kind, byte cpl) => kind switch
    {
        AccessKind.Write => (permissions & HekiAttributes.Write) != 0,
        AccessKind.Exec => cpl == 3 || !Mbec || (permissions & HekiAttributes.Exec) != 0,
        _ => Profile == HekiProfile.HekiV2 || (permissions & HekiAttributes.Read) != 0,
    };

    /// <summary>The return value the profile gives a PROTECT_MEMORY list, applied to <see cref="Rfc"/> and to <see cref="Intent"/>.</summary>
    public (long Ret, int HostIntegrityFaults) Protect(MemoryRange[][] listPages)
    {
        var (ret, faults, rfcApplied) = Run(Rfc, listPages, allOrNothing: Profile == HekiProfile.Hardened, checkSizes: Profile == HekiProfile.Hardened,
            out var rfcAfter);
        var (intentRet, _, _) = Run(Intent, listPages, allOrNothing: true, checkSizes: Profile == HekiProfile.Hardened, out var intentAfter);
        var multi = listPages.Sum(p => p.Length) > 1;
        if (ret != 0 && multi)
        {
            foreach (var range in listPages.SelectMany(p => p))
                FailedBatches.Add((range.Pa >> 12, range.Epa >> 12));
            if (rfcApplied.Count > 0)
                foreach (var (start, end) in rfcApplied)
                    Taints.Add((start, end, Defect.HalfAppliedBatch));
        }

        if (ret == 0 && intentRet == 0)
            TaintDroppedDowngrades(rfcAfter, intentAfter, listPages);
        Rfc = rfcAfter;
        // The intent follows what was acknowledged: a list the profile refused changes nothing there, even where
        // a defect left the intent without a page the RFC made immutable.
        Intent = ret == 0 && intentRet == 0 ? intentAfter : Intent;
        Trim();
        return (ret, faults);
    }

    /// <summary>kvm_permissions_set from the host (§3): the profile's return value; both stores follow.</summary>
    public long SetPermissions(ulong start, ulong end, ulong attr)
    {
        var ret = Rfc.PermissionsSet(start, end, attr, out var rfcChanged);
        var intentChanged = GfnRange.Empty;
        if (ret == 0)
            Intent.PermissionsSet(start, end, attr, out intentChanged);
        if (ret == 0 && !intentChanged.IsEmpty && rfcChanged != intentChanged)
            Taints.Add((start, end, Defect.DroppedDowngrade));
        return ret;
    }

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES from the host VMM (§4).</summary>
    public long SetMemoryAttributes(ulong address, ulong size, ulong attributes, ulong flags)
    {
        var ret = Rfc.SetMemoryAttributes(address, size, attributes, flags, out _);
        Intent.SetMemoryAttributes(address, size, attributes, flags, out _);
        return ret;
    }

    /// <summary>An acknowledged LOCK_CR_UPDATE that pinned (return 0): pins only grow (§7).</summary>
    public void Pinned(ulong cr, ulong pin)
    {
        if (cr == 0)
            Cr0Pins |= pin;
        else if (cr == 4)
            Cr4Pins |= pin & HostCr4Mask;
    }

    public ulong PinsOf(int cr) => cr switch { 0 => Cr0Pins, 4 => Cr4Pins, _ => 0 };

    /// <summary>The latest defect whose taint covers <paramref name="gfn"/>, or <see cref="Defect.None"/>.</summary>
    /// <summary>Keeps the latest provenance records only (a long run must not grow memory without bound).</summary>
    public void Trim()
    {
        const int keep = 4096;
        if (Taints.Count > 2 * keep)
            Taints.RemoveRange(0, Taints.Count - keep);
        if (FailedBatches.Count > 2 * keep)
            FailedBatches.RemoveRange(0, FailedBatches.Count - keep);
    }

    public Defect TaintAt(ulong gfn)
    {
        for (var i = Taints.Count - 1; i >= 0; i--)
            if (gfn >= Taints[i].Start && gfn < Taints[i].End)
                return Taints[i].Defect;
        return Defect.None;
    }

    public bool InFailedBatch(ulong gfn) => FailedBatches.Any(r => gfn >= r.Start && gfn < r.End);

    private void TaintDroppedDowngrades(ReferenceVmMemory rfcAfter, ReferenceVmMemory intentAfter, MemoryRange[][] listPages)
    {
        foreach (var range in listPages.SelectMany(p => p))
        {
            ulong start = range.Pa >> 12, end = range.Epa >> 12;
            if (end <= start || end - start > 4096)
                continue;
            for (var gfn = start; gfn < end; gfn++)
            {
                if (rfcAfter.GetAttributes(gfn) != intentAfter.GetAttributes(gfn))
                {
                    Taints.Add((start, end, Defect.DroppedDowngrade));
                    break;
                }
            }
        }
    }

    /// <summary>
    /// A PROTECT_MEMORY list on a copy of <paramref name="store"/> (§5): alignment and permission checks, EXEC
    /// forced without MBEC, kvm_permissions_set per range; stops at the first error. All-or-nothing lists leave
    /// the copy as it was on failure; otherwise the ranges before the error stay (returned as applied).
    /// </summary>
    private (long Ret, int Faults, List<(ulong, ulong)> Applied) Run(ReferenceVmMemory store, MemoryRange[][] listPages, bool allOrNothing,
        bool checkSizes, out ReferenceVmMemory after)
    {
        var applied = new List<(ulong, ulong)>();
        var faults = 0;
        if (checkSizes && (listPages.Length > ProtectMemory.MaxListPages || listPages.Any(p => p.Length > ProtectMemory.MaxRangesPerPage)))
        {
            after = store;
            return (-7, 0, applied);
        }

        var scratch = store.Clone();
        foreach (var page in listPages)
        {
            if (page.Length > ProtectMemory.MaxRangesPerPage)
                faults++;
            foreach (var range in page)
            {
                long ret;
                var permissions = range.Permissions;
                if (range.Pa % 4096 != 0 || range.Epa % 4096 != 0 || permissions == 0 || (permissions & ~0xFUL) != 0)
                {
                    ret = -22;
                }
                else
                {
                    if ((permissions & HekiAttributes.Exec) == 0 && !Mbec)
                        permissions |= HekiAttributes.Exec;
                    ret = scratch.PermissionsSet(range.Pa >> 12, range.Epa >> 12, permissions, out _);
                }

                if (ret != 0)
                {
                    after = allOrNothing ? store : scratch;
                    return (ret, faults, allOrNothing ? [] : applied);
                }

                applied.Add((range.Pa >> 12, range.Epa >> 12));
            }
        }

        after = scratch;
        return (0, faults, applied);
    }
}
