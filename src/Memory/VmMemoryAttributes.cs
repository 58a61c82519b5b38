namespace HekiActors.Memory;

/// <summary>
/// One VM's memory attributes and the kernel functions over them: the upstream store calls with the profile's
/// set_attributes behaviour (§2), kvm_permissions_get/set (§3, patch 10) and the VMM's
/// KVM_SET_MEMORY_ATTRIBUTES (§4). Single-writer: its owner (the VM actor) serializes every call.
/// </summary>
public sealed class VmMemoryAttributes
{
    private AttributeStore _store;

    public VmMemoryAttributes(HekiProfile profile = HekiProfile.Hardened, bool privateMemory = false)
        : this(profile, privateMemory, new AttributeStore())
    {
    }

    private VmMemoryAttributes(HekiProfile profile, bool privateMemory, AttributeStore store)
    {
        Profile = profile;
        PrivateMemory = privateMemory;
        _store = store;
    }

    public HekiProfile Profile { get; }

    /// <summary>Whether the VM was created with private memory (the only host-settable attribute).</summary>
    public bool PrivateMemory { get; }

    /// <summary>kvm_supported_mem_attributes: PRIVATE on private-memory VMs, nothing otherwise.</summary>
    public ulong SupportedAttributes => PrivateMemory ? HekiAttributes.KvmPrivate : 0;

    /// <summary>The underlying run store (read it; change it only through this class).</summary>
    public AttributeStore Store => _store;

    /// <summary>kvm_get_memory_attributes: the word, 0 when absent.</summary>
    public ulong GetAttributes(ulong gfn) => _store.GetAttributes(gfn);

    /// <summary>kvm_range_has_memory_attributes with the Heki match_all flag (§2).</summary>
    public bool RangeHas(ulong start, ulong end, ulong attrs, bool matchAll) => _store.RangeHas(start, end, attrs, matchAll);

    /// <summary>
    /// kvm_vm_set_mem_attributes for the profile: returns the gfns whose word changed (empty when none), so the
    /// caller can invalidate translations. heki-v2 keeps the RFC defect: a range that already has every bit of
    /// <paramref name="attributes"/> is skipped, which silently drops pure downgrades.
    /// </summary>
    public GfnRange SetAttributes(ulong start, ulong end, ulong attributes, ulong mask)
    {
        // Heki patch 09: the early "nothing to do" test uses subset semantics.
        if (Profile == HekiProfile.HekiV2 && _store.RangeHas(start, end, attributes, matchAll: true))
            return GfnRange.Empty;
        return _store.SetAttributes(start, end, attributes, mask);
    }

    /// <summary>
    /// The maximal region around <paramref name="gfn"/> with one word (Word 0 for a gap without entries); what a
    /// VM hands a vCPU as one translation. End is 2^64-1 for the last region.
    /// </summary>
    public AttributeRun RegionOf(ulong gfn)
    {
        var cursor = new AttributeStore.RegionCursor(_store, gfn);
        return new AttributeRun(cursor.Start, cursor.End, cursor.Word);
    }

    /// <summary>kvm_permissions_get (§3): heki bits of the gfn, or RWX when the profile says it has none.</summary>
    public ulong PermissionsGet(ulong gfn)
    {
        var word = _store.GetAttributes(gfn);
        return PermissionsOf(word, Profile);
    }

    /// <summary>The permissions a word grants under a profile (what kvm_permissions_get returns for it).</summary>
    public static ulong PermissionsOf(ulong word, HekiProfile profile)
    {
        // heki-v2 tests the whole word, so PRIVATE alone yields 0; hardened tests the heki group only.
        var present = profile == HekiProfile.HekiV2 ? word != 0 : (word & HekiAttributes.KvmHekiMask) != 0;
        return present ? HekiAttributes.FromKvm(word) : HekiAttributes.DefaultPermissions;
    }

    /// <summary>
    /// kvm_permissions_set (§3), checks in the kernel's order. On -EPERM the caller logs
    /// <see cref="HekiWarnings.ImmutableChange"/> through its rate limiter.
    /// </summary>
    public int PermissionsSet(ulong start, ulong end, ulong hekiAttr, out GfnRange changed)
    {
        changed = GfnRange.Empty;
        var ret = PermissionsSetCheck(start, end, hekiAttr);
        if (ret == Errno.Ok)
            changed = SetAttributes(start, end, HekiAttributes.ToKvm(hekiAttr), HekiAttributes.KvmHekiMask);
        return ret;
    }

    /// <summary>
    /// What <see cref="PermissionsSet"/> would return, without changing anything: its checks in the kernel's order
    /// (§3); 0 means the call would succeed.
    /// </summary>
    public int PermissionsSetCheck(ulong start, ulong end, ulong hekiAttr)
    {
        if (HekiAttributes.HasInvalidBits(hekiAttr))
            return Errno.EINVAL;
        if (end <= start)
            return Errno.EINVAL;
        if (_store.RangeHas(start, end, HekiAttributes.KvmHekiImmutable, matchAll: false))
            return Errno.EPERM;
        return Errno.Ok;
    }

    /// <summary>The VMM's KVM_SET_MEMORY_ATTRIBUTES (§4): byte address and size, heki bits never settable here.</summary>
    public int SetMemoryAttributes(ulong address, ulong size, ulong attributes, ulong flags, out GfnRange changed)
    {
        changed = GfnRange.Empty;
        var ret = SetMemoryAttributesCheck(address, size, attributes, flags);
        if (ret == Errno.Ok)
            changed = SetAttributes(address >> PageShift, (address + size) >> PageShift, attributes, SupportedAttributes);
        return ret;
    }

    /// <summary>What <see cref="SetMemoryAttributes"/> would return, without changing anything (§4's checks in order).</summary>
    public int SetMemoryAttributesCheck(ulong address, ulong size, ulong attributes, ulong flags)
    {
        if (flags != 0)
            return Errno.EINVAL;
        if ((attributes & ~SupportedAttributes) != 0)
            return Errno.EINVAL;
        if (size == 0 || address + size < address)
            return Errno.EINVAL;
        if ((address & PageMask) != 0 || (size & PageMask) != 0)
            return Errno.EINVAL;
        return Errno.Ok;
    }

    /// <summary>An independent copy (for all-or-nothing hypercalls and snapshots); O(runs).</summary>
    public VmMemoryAttributes Clone() => new(Profile, PrivateMemory, _store.Clone());

    /// <summary>
    /// Takes over the state of a scratch copy made by <see cref="Clone"/> (the commit of a transaction). The
    /// scratch copy is emptied: its store now belongs to this VM.
    /// </summary>
    public void CommitFrom(VmMemoryAttributes scratch)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        if (ReferenceEquals(scratch, this))
            return;
        if (scratch.Profile != Profile || scratch.PrivateMemory != PrivateMemory)
            throw new ArgumentException("scratch copy belongs to a differently configured VM", nameof(scratch));
        _store = scratch._store;
        scratch._store = new AttributeStore();
    }

    /// <summary>Puts back runs taken from <see cref="AttributeStore.Runs"/> (snapshot recovery); replaces everything.</summary>
    public void Restore(IEnumerable<AttributeRun> runs)
    {
        var store = new AttributeStore();
        foreach (var run in runs)
            store.SetAttributes(run.Start, run.End, run.Word, ulong.MaxValue);
        _store = store;
    }

    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    private const ulong PageMask = PageSize - 1;
}
