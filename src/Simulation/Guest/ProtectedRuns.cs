using HekiActors.Memory;

namespace HekiActors.Simulation.Guest;

/// <summary>
/// A VM's protections as a journal holds them (its store's maximal runs of one non-zero word, in gfn order): what a guest
/// kernel taking over a recovered VM reads back about its own memory (<see cref="GuestKernel.Resume"/>).
/// </summary>
public sealed class ProtectedRuns
{
    private readonly AttributeRun[] _runs;

    /// <param name="runs">Disjoint runs sorted by start (as <see cref="Memory.Vm.VmSnapshot.Runs"/>).</param>
    public ProtectedRuns(IReadOnlyList<AttributeRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        _runs = [.. runs];
        for (var i = 1; i < _runs.Length; i++)
        {
            if (_runs[i].Start < _runs[i - 1].End)
                throw new ArgumentException("runs must be disjoint and sorted by start", nameof(runs));
        }
    }

    /// <summary>Whether every page of <paramref name="range"/> holds <paramref name="word"/> (an empty range does).</summary>
    public bool Holds(GfnRange range, ulong word)
    {
        var at = range.Start;
        foreach (var run in Within(range))
        {
            if (run.Start > at || run.Word != word)
                return false;
            at = run.End;
        }

        return at >= range.End;
    }

    /// <summary>The runs overlapping <paramref name="range"/>, cut to it, in order.</summary>
    public IEnumerable<AttributeRun> Within(GfnRange range)
    {
        if (range.IsEmpty)
            yield break;
        for (var i = FirstEndingAfter(range.Start); i < _runs.Length && _runs[i].Start < range.End; i++)
            yield return new AttributeRun(Math.Max(_runs[i].Start, range.Start), Math.Min(_runs[i].End, range.End), _runs[i].Word);
    }

    private int FirstEndingAfter(ulong gfn)
    {
        int low = 0, high = _runs.Length;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (_runs[mid].End <= gfn)
                low = mid + 1;
            else
                high = mid;
        }

        return low;
    }
}
