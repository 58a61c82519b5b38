using HekiActors.Memory;

namespace HekiActors.Memory.Hypercalls;

/// <summary>
/// What one KVM_HC_PROTECT_MEMORY call did (§5): the value for the guest's RAX, the gfns whose word changed in
/// the committed store (the translations to shoot down; empty when nothing was committed), the warning lines in
/// the order the kernel logs them (the supervisor rate-limits them), and how many list pages overflowed the
/// host's buffer (heki-v2 only). <see cref="Applied"/> lists the kvm_permissions_set calls that succeeded and
/// were committed, in order: replaying them on the prior state gives the new state (the VM's journal event).
/// </summary>
public sealed record ProtectMemoryOutcome(
    int Ret, GfnRange Changed, IReadOnlyList<WarningLine> Warnings, int HostIntegrityFaults, IReadOnlyList<AppliedRange> Applied)
{
    /// <summary>The empty list: 0, nothing changed, nothing logged (§5).</summary>
    public static readonly ProtectMemoryOutcome Nothing = new(Errno.Ok, GfnRange.Empty, [], 0, []);

    /// <summary>hardened's up-front refusal of an oversized list: -E2BIG, nothing applied, nothing logged (§5).</summary>
    public static readonly ProtectMemoryOutcome TooBig = new(Errno.E2BIG, GfnRange.Empty, [], 0, []);
}

/// <summary>One successful kvm_permissions_set(StartGfn, EndGfn, Permissions), permissions after EXEC forcing.</summary>
public readonly record struct AppliedRange(ulong StartGfn, ulong EndGfn, ulong Permissions);

/// <summary>The pure KVM_HC_PROTECT_MEMORY rules (§5, patch 11) over one VM's memory attributes.</summary>
public static class ProtectMemory
{
    /// <summary>How many ranges fit in one 4 KiB list page (patch 11).</summary>
    public const int MaxRangesPerPage = 169;

    /// <summary>hardened: the most list pages one call may chain (§5).</summary>
    public const int MaxListPages = 1024;

    private const ulong PageMask = VmMemoryAttributes.PageSize - 1;

    /// <summary>
    /// Runs a PROTECT_MEMORY list against <paramref name="memory"/> under its profile. The caller has already
    /// applied the generic rules (<see cref="HypercallDispatch.Classify"/>). <paramref name="memory"/> is changed
    /// in place exactly as the outcome's <see cref="ProtectMemoryOutcome.Changed"/> says.
    /// </summary>
    public static ProtectMemoryOutcome Apply(VmMemoryAttributes memory, IReadOnlyList<IReadOnlyList<MemoryRange>> listPages, bool mbec)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(listPages);
        if (listPages.Count == 0)
            return ProtectMemoryOutcome.Nothing;
        return memory.Profile == HekiProfile.HekiV2
            ? ApplyHekiV2(memory, listPages, mbec, dryRun: false)
            : ApplyHardened(memory, listPages, mbec, dryRun: false);
    }

    /// <summary>
    /// What <see cref="Apply"/> would return, without changing <paramref name="memory"/>: every range is checked in place
    /// against the store and the ranges of the same list that succeeded before it (a later range must see an earlier
    /// one). That is exact because kvm_permissions_set fails only for its own arguments or an immutable page in its range
    /// (§3), and an earlier range that succeeded can have changed only that for it: it can make pages immutable, never
    /// clear an immutable page (it would have failed, and a failure ends the list). No scratch copy of the store (a copy of
    /// every leaf per call, in every hypercall burst: issue 11). <see cref="ProtectMemoryOutcome.Changed"/> is empty;
    /// <see cref="ProtectMemoryOutcome.Applied"/> is complete.
    /// </summary>
    public static ProtectMemoryOutcome Evaluate(VmMemoryAttributes memory, IReadOnlyList<IReadOnlyList<MemoryRange>> listPages, bool mbec)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(listPages);
        if (listPages.Count == 0)
            return ProtectMemoryOutcome.Nothing;
        return memory.Profile == HekiProfile.Hardened
            ? ApplyHardened(memory, listPages, mbec, dryRun: true)
            : ApplyHekiV2(memory, listPages, mbec, dryRun: true);
    }

    // The ranges of a list, counted by index: the lists are walked by index throughout, because a foreach over the
    // interfaces boxes an enumerator per page and per list, on every hypercall (issue 11: a burst's allocations).
    private static int RangeCount(IReadOnlyList<IReadOnlyList<MemoryRange>> listPages)
    {
        var ranges = 0;
        for (var p = 0; p < listPages.Count; p++)
            ranges += listPages[p].Count;
        return ranges;
    }

    // §5 heki-v2: one range at a time, the first error stops the loop, earlier ranges stay applied. A page
    // claiming more than 169 ranges is read past the host's buffer: counted as a host-integrity fault when the
    // loop reaches that page (pages after an error are never read), and its ranges are processed anyway.
    private static ProtectMemoryOutcome ApplyHekiV2(VmMemoryAttributes memory, IReadOnlyList<IReadOnlyList<MemoryRange>> listPages, bool mbec,
        bool dryRun)
    {
        var ranges = RangeCount(listPages);
        // Sized for a line a range (the usual case): a boot's list has ~67 ranges, and growing from 4 cost 4x its lines.
        var lines = new List<WarningLine>(ranges);
        var applied = new List<AppliedRange>(ranges);
        var changed = GfnRange.Empty;
        var faults = 0;
        var earlier = new EarlierImmutable();
        for (var p = 0; p < listPages.Count; p++)
        {
            var page = listPages[p];
            if (page.Count > MaxRangesPerPage)
                faults++;
            for (var r = 0; r < page.Count; r++)
            {
                var ret = ApplyRange(memory, page[r], mbec, lines, applied, dryRun, ref earlier, out var rangeChanged);
                changed = changed.Union(rangeChanged);
                if (ret != Errno.Ok)
                    return new ProtectMemoryOutcome(ret, changed, lines, faults, applied.ToArray());
            }
        }

        return new ProtectMemoryOutcome(Errno.Ok, changed, lines, faults, applied.ToArray());
    }

    // §5 hardened: size limits first (-E2BIG, nothing applied, nothing logged); then the whole list in order on a
    // scratch copy, so a later range sees an earlier one (and cannot undo an IMMUTABLE it just set), committed
    // only if every range succeeds. Choice: the lines of the ranges processed up to and including the failing one
    // are still returned, because the kernel logs as it goes; only the store change is all or nothing.
    private static ProtectMemoryOutcome ApplyHardened(VmMemoryAttributes memory, IReadOnlyList<IReadOnlyList<MemoryRange>> listPages, bool mbec,
        bool dryRun)
    {
        if (listPages.Count > MaxListPages)
            return ProtectMemoryOutcome.TooBig;
        var total = 0;
        for (var p = 0; p < listPages.Count; p++)
        {
            var count = listPages[p].Count;
            if (count > MaxRangesPerPage)
                return ProtectMemoryOutcome.TooBig;
            total += count;
        }

        var lines = new List<WarningLine>(total);
        var applied = new List<AppliedRange>(total);
        // One range needs no scratch copy: permissions_set either fails before touching the store or succeeds whole. A dry
        // run needs none either: it checks each range against the store and the earlier ranges (Evaluate).
        var target = total <= 1 || dryRun ? memory : memory.Clone();
        var checkOnly = dryRun;
        var changed = GfnRange.Empty;
        var earlier = new EarlierImmutable();
        for (var p = 0; p < listPages.Count; p++)
        {
            var page = listPages[p];
            for (var r = 0; r < page.Count; r++)
            {
                var ret = ApplyRange(target, page[r], mbec, lines, applied, checkOnly, ref earlier, out var rangeChanged);
                if (ret != Errno.Ok)
                    return new ProtectMemoryOutcome(ret, GfnRange.Empty, lines, 0, []);
                changed = changed.Union(rangeChanged);
            }
        }

        if (!dryRun && !ReferenceEquals(target, memory) && !changed.IsEmpty)
            memory.CommitFrom(target);
        return new ProtectMemoryOutcome(Errno.Ok, changed, lines, 0, applied.ToArray());
    }

    // §5, patch 11: one range, checks and log lines in the kernel's order; checkOnly leaves the store as it is.
    private static int ApplyRange(
        VmMemoryAttributes target, MemoryRange range, bool mbec, List<WarningLine> lines, List<AppliedRange> applied, bool checkOnly,
        ref EarlierImmutable earlier, out GfnRange changed)
    {
        changed = GfnRange.Empty;
        if (((range.Pa | range.Epa) & PageMask) != 0)
            return Errno.EINVAL;
        var permissions = range.Permissions;
        if (permissions == 0 || HekiAttributes.HasInvalidBits(permissions))
            return Errno.EINVAL;
        if ((permissions & HekiAttributes.Exec) == 0 && !mbec)
        {
            // Only the hypercall forces EXEC; kvm_permissions_set never does.
            lines.Add(new WarningLine(WarningSite.ClearingExec, HekiWarnings.ClearingExecNeedsMbec));
            permissions |= HekiAttributes.Exec;
        }

        var start = range.Pa >> VmMemoryAttributes.PageShift;
        var end = range.Epa >> VmMemoryAttributes.PageShift;
        lines.Add(WarningLine.ProtectRequest(start, end, permissions));
        var ret = checkOnly ? CheckAfter(target, applied, ref earlier, start, end, permissions) : target.PermissionsSet(start, end, permissions, out changed);
        if (ret == Errno.EPERM)
        {
            lines.Add(WarningLine.ImmutableChange(start, end));
        }
        else if (ret == Errno.Ok)
        {
            var done = new AppliedRange(start, end, permissions);
            applied.Add(done);
            earlier.Added(done);
        }

        return ret;
    }

    // What kvm_permissions_set(start, end, permissions) returns once the ranges of this call in applied are in the store,
    // read without them in it: its own checks on the store as it is, then EPERM if an earlier range made a page of it
    // immutable (the only effect an earlier range that succeeded can have on it; see Evaluate).
    private static int CheckAfter(VmMemoryAttributes memory, List<AppliedRange> applied, ref EarlierImmutable earlier, ulong start, ulong end,
        ulong permissions)
    {
        var ret = memory.PermissionsSetCheck(start, end, permissions);
        if (ret != Errno.Ok)
            return ret;
        return earlier.Overlaps(applied, start, end) ? Errno.EPERM : Errno.Ok;
    }

    /// <summary>
    /// The gfns the earlier ranges of one call made immutable, asked once per range: none (the usual list) costs nothing,
    /// a short list is scanned, and a long one (a list of 520,000 ranges) gets a run store of its own, so a call is
    /// O(ranges log ranges), never O(ranges²) (a 16 MiB replay line took minutes). Allocates only for long lists.
    /// </summary>
    private struct EarlierImmutable
    {
        // Up to this many applied ranges a scan beats building a store (a boot's lists have ~67 ranges).
        private const int ScanLimit = 256;

        private int _immutable;
        private AttributeStore? _store;

        public void Added(AppliedRange range)
        {
            if (!IsImmutable(range))
                return;
            _immutable++;
            if (_store is not null)
                Mark(_store, range);
        }

        public bool Overlaps(List<AppliedRange> applied, ulong start, ulong end)
        {
            if (_immutable == 0)
                return false;
            if (_store is null && applied.Count > ScanLimit)
            {
                _store = new AttributeStore();
                foreach (var range in applied)
                {
                    if (IsImmutable(range))
                        Mark(_store, range);
                }
            }

            if (_store is not null)
                return _store.RangeHas(start, end, HekiAttributes.KvmHekiImmutable, matchAll: false);
            foreach (var range in applied)
            {
                if (IsImmutable(range) && range.StartGfn < end && start < range.EndGfn)
                    return true;
            }

            return false;
        }

        private static bool IsImmutable(AppliedRange range) => (range.Permissions & HekiAttributes.Immutable) != 0;

        private static void Mark(AttributeStore store, AppliedRange range) =>
            store.SetAttributes(range.StartGfn, range.EndGfn, HekiAttributes.KvmHekiImmutable, HekiAttributes.KvmHekiImmutable);
    }
}
