using HekiActors.Memory;

namespace HekiActors.Simulation.Guest;

/// <summary>
/// A guest kernel's module memory, as whole pages of its module area: first fit, freed runs merged. Pages that were
/// made immutable are never given back: once IMMUTABLE is set no PROTECT_MEMORY can make them writable again (Heki
/// semantics §3 rule 3), so the guest must keep them out of its allocator forever (<see cref="Quarantine"/>).
/// </summary>
public sealed class ModuleAllocator(GfnRange area)
{
    private readonly List<GfnRange> _free = area.IsEmpty ? [] : [area];

    /// <summary>Pages kept out of use for good.</summary>
    public ulong QuarantinedPages { get; private set; }

    /// <summary>Pages free now.</summary>
    public ulong FreePages => _free.Aggregate(0UL, (sum, r) => sum + r.Length);

    /// <summary>The lowest free run of <paramref name="pages"/> pages, or null when none is that long (the area is full or fragmented).</summary>
    public GfnRange? Allocate(ulong pages)
    {
        for (var i = 0; i < _free.Count; i++)
        {
            var run = _free[i];
            if (run.Length < pages)
                continue;
            var taken = new GfnRange(run.Start, run.Start + pages);
            if (run.Length == pages)
                _free.RemoveAt(i);
            else
                _free[i] = new GfnRange(taken.End, run.End);
            return taken;
        }

        return null;
    }

    /// <summary>Gives <paramref name="range"/> back, merged with free neighbours.</summary>
    public void Free(GfnRange range)
    {
        if (range.IsEmpty)
            return;
        var at = _free.FindIndex(r => r.Start > range.Start);
        if (at < 0)
            at = _free.Count;
        _free.Insert(at, range);
        if (at + 1 < _free.Count && _free[at].End == _free[at + 1].Start)
        {
            _free[at] = new GfnRange(_free[at].Start, _free[at + 1].End);
            _free.RemoveAt(at + 1);
        }

        if (at > 0 && _free[at - 1].End == _free[at].Start)
        {
            _free[at - 1] = new GfnRange(_free[at - 1].Start, _free[at].End);
            _free.RemoveAt(at);
        }
    }

    /// <summary>Takes <paramref name="range"/> out of the free runs, wherever it is free (a resumed guest's pages it cannot account for).</summary>
    /// <returns>The pages that were free and are now kept out of use.</returns>
    public ulong Reserve(GfnRange range)
    {
        ulong taken = 0;
        for (var i = _free.Count - 1; i >= 0; i--)
        {
            var run = _free[i];
            if (!run.Overlaps(range))
                continue;
            var overlap = new GfnRange(Math.Max(run.Start, range.Start), Math.Min(run.End, range.End));
            taken += overlap.Length;
            _free.RemoveAt(i);
            if (overlap.End < run.End)
                _free.Insert(i, new GfnRange(overlap.End, run.End));
            if (run.Start < overlap.Start)
                _free.Insert(i, new GfnRange(run.Start, overlap.Start));
        }

        return taken;
    }

    /// <summary>Keeps <paramref name="range"/> (allocated earlier) out of use for good.</summary>
    public void Quarantine(GfnRange range) => QuarantinedPages += range.Length;
}
