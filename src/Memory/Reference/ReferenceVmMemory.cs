namespace HekiActors.Memory.Reference;

/// <summary>
/// The oracle: a deliberately plain per-gfn dictionary (the kernel's xarray) that runs the kernel's loops one
/// page at a time. Tests compare the product against it and benchmarks use it as the baseline; the product
/// never uses it. Its cost is O(pages), so it refuses ranges longer than <see cref="MaxLoopPages"/>.
/// </summary>
public sealed class ReferenceVmMemory
{
    /// <summary>Longest range the per-page loops accept (keeps a mistaken test from looping for centuries).</summary>
    public const ulong MaxLoopPages = 1UL << 26;

    private readonly Dictionary<ulong, ulong> _xarray = new();

    public ReferenceVmMemory(HekiProfile profile = HekiProfile.Hardened, bool privateMemory = false)
    {
        Profile = profile;
        PrivateMemory = privateMemory;
    }

    public HekiProfile Profile { get; }
    public bool PrivateMemory { get; }
    public int EntryCount => _xarray.Count;

    /// <summary>An independent copy (the chaos oracle runs a hardened list on a scratch copy, §5).</summary>
    public ReferenceVmMemory Clone()
    {
        var copy = new ReferenceVmMemory(Profile, PrivateMemory);
        foreach (var (gfn, word) in _xarray)
            copy._xarray[gfn] = word;
        return copy;
    }

    public ulong GetAttributes(ulong gfn) => _xarray.TryGetValue(gfn, out var word) ? word : 0;

    public bool RangeHas(ulong start, ulong end, ulong attrs, bool matchAll)
    {
        if (attrs == 0)
        {
            // RFC quirk: xas_find(end - 1) — "no entries at all", in both modes.
            foreach (var gfn in _xarray.Keys)
                if (gfn >= start && gfn < end)
                    return false;
            return true;
        }

        if (end <= start)
            return matchAll;
        CheckLoop(start, end);
        for (var gfn = start; gfn < end; gfn++)
        {
            var has = (GetAttributes(gfn) & attrs) == attrs;
            if (matchAll && !has)
                return false;
            if (!matchAll && has)
                return true;
        }

        return matchAll;
    }

    /// <summary>Returns the covering range of gfns whose word changed.</summary>
    public GfnRange SetAttributes(ulong start, ulong end, ulong attributes, ulong mask)
    {
        if (Profile == HekiProfile.HekiV2 && RangeHas(start, end, attributes, matchAll: true))
            return GfnRange.Empty;
        if (end <= start)
            return GfnRange.Empty;
        CheckLoop(start, end);
        ulong first = 0, last = 0;
        var any = false;
        for (var gfn = start; gfn < end; gfn++)
        {
            var old = GetAttributes(gfn);
            var word = (old & ~mask) | (attributes & mask);
            if (word == old)
                continue;
            if (word == 0)
                _xarray.Remove(gfn);
            else
                _xarray[gfn] = word;
            if (!any)
                first = gfn;
            any = true;
            last = gfn;
        }

        return any ? new GfnRange(first, last + 1) : GfnRange.Empty;
    }

    public ulong PermissionsGet(ulong gfn)
    {
        var word = GetAttributes(gfn);
        var present = Profile == HekiProfile.HekiV2 ? word != 0 : (word & 0xF0) != 0;
        if (!present)
            return 7;
        ulong heki = 0;
        if ((word & 0x10) != 0) heki |= 1;
        if ((word & 0x20) != 0) heki |= 2;
        if ((word & 0x40) != 0) heki |= 4;
        if ((word & 0x80) != 0) heki |= 8;
        return heki;
    }

    public int PermissionsSet(ulong start, ulong end, ulong hekiAttr, out GfnRange changed)
    {
        changed = GfnRange.Empty;
        if ((hekiAttr | 0xF) != 0xF)
            return -22;
        if (end <= start)
            return -22;
        if (RangeHas(start, end, 0x80, matchAll: false))
            return -1;
        changed = SetAttributes(start, end, hekiAttr << 4, 0xF0);
        return 0;
    }

    public int SetMemoryAttributes(ulong address, ulong size, ulong attributes, ulong flags, out GfnRange changed)
    {
        changed = GfnRange.Empty;
        var supported = PrivateMemory ? 8UL : 0UL;
        if (flags != 0)
            return -22;
        if ((attributes & ~supported) != 0)
            return -22;
        if (size == 0 || address + size < address)
            return -22;
        if (address % 4096 != 0 || size % 4096 != 0)
            return -22;
        changed = SetAttributes(address / 4096, (address + size) / 4096, attributes, supported);
        return 0;
    }

    /// <summary>Maximal runs of equal non-zero words, in gfn order (to compare with the run store).</summary>
    public IEnumerable<AttributeRun> Runs()
    {
        var keys = _xarray.Keys.ToList();
        keys.Sort();
        var i = 0;
        while (i < keys.Count)
        {
            var start = keys[i];
            var word = _xarray[start];
            var end = start + 1;
            i++;
            while (i < keys.Count && keys[i] == end && _xarray[keys[i]] == word)
            {
                end++;
                i++;
            }

            yield return new AttributeRun(start, end, word);
        }
    }

    private static void CheckLoop(ulong start, ulong end)
    {
        if (end - start > MaxLoopPages)
            throw new InvalidOperationException($"reference model loops per page; {end - start} pages is too many");
    }
}
