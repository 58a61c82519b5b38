using System.Runtime.CompilerServices;

namespace HekiActors.Vcpu.Translation;

/// <summary>
/// A vCPU's cached translations (the SPTE analogue): disjoint gfn runs, each with the permissions
/// kvm_permissions_get gave for it, one entry per run rather than per page. Owned by one vCPU actor; a lookup
/// allocates nothing. Filled from the VM actor's answers and emptied on its shootdowns.
/// </summary>
public sealed class TranslationCache
{
    /// <summary>Entries kept before the cache starts over (a real MMU would evict; runs are few in practice).</summary>
    public const int DefaultCapacity = 1024;

    /// <summary>Entries allocated at the first insert; the arrays double up to the capacity as runs are cached.</summary>
    private const int InitialEntries = 16;

    private readonly int _capacity;
    private ulong[] _starts;
    private ulong[] _ends;
    private byte[] _permissions;
    // The traceparent of the store change each entry came from (telemetry only): allocated on the first traced
    // insert, so a vCPU with telemetry off carries no extra array.
    private string?[]? _traceParents;
    private int _count;
    private int _lastHit;

    public TranslationCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        // Nothing until the first translation: a booted vCPU has none yet (a 10,000-VM boot kept 20,000 empty caches'
        // arrays, ~700 bytes a VM, issue 11), and a host with 20,000 mostly idle vCPUs must not pay 17 KB each either.
        _capacity = capacity;
        _starts = [];
        _ends = [];
        _permissions = [];
    }

    public int Count => _count;

    public int Capacity => _capacity;

    /// <summary>
    /// The traceparent of the entry the last successful <see cref="TryLookup"/> hit (null when it has none): read
    /// right after a lookup, when a violation on that translation becomes a child span of its change.
    /// </summary>
    public string? LastHitTraceParent => _traceParents is { } traces && _lastHit < _count ? traces[_lastHit] : null;

    /// <summary>Finds the translation for <paramref name="gfn"/>: its heki permissions, or false on a miss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryLookup(ulong gfn, out byte permissions)
    {
        // Guest accesses have locality: the last run hit answers most lookups with two compares.
        var hit = _lastHit;
        if (hit < _count && gfn >= _starts[hit] && gfn < _ends[hit])
        {
            permissions = _permissions[hit];
            return true;
        }

        return TrySearch(gfn, out permissions);
    }

    /// <summary>
    /// Like <see cref="TryLookup"/>, and also gives the hit run's bounds, so a caller walking many accesses can
    /// test the next ones against the run itself before asking again.
    /// </summary>
    public bool TryLookupRun(ulong gfn, out byte permissions, out ulong start, out ulong end)
    {
        if (!TryLookup(gfn, out permissions))
        {
            start = end = 0;
            return false;
        }

        start = _starts[_lastHit];
        end = _ends[_lastHit];
        return true;
    }

    private bool TrySearch(ulong gfn, out byte permissions)
    {
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_ends[mid] <= gfn)
                lo = mid + 1;
            else if (_starts[mid] > gfn)
                hi = mid - 1;
            else
            {
                _lastHit = mid;
                permissions = _permissions[mid];
                return true;
            }
        }

        permissions = 0;
        return false;
    }

    /// <summary>
    /// Caches the run [start, end) with <paramref name="permissions"/>; overlapping entries are replaced.
    /// <paramref name="traceParent"/> is the store change the translation came from (see <see cref="LastHitTraceParent"/>).
    /// </summary>
    public void Insert(ulong start, ulong end, byte permissions, string? traceParent = null)
    {
        if (end <= start)
            return;
        Invalidate(start, end);
        if (_count == _starts.Length)
        {
            if (_starts.Length < _capacity)
                Grow();
            else
                _count = 0; // start over: cheaper than eviction bookkeeping, and misses only cost a slow path
        }

        var at = FirstEndingAfter(start);
        var tail = _count - at;
        Array.Copy(_starts, at, _starts, at + 1, tail);
        Array.Copy(_ends, at, _ends, at + 1, tail);
        Array.Copy(_permissions, at, _permissions, at + 1, tail);
        if (traceParent is not null)
            _traceParents ??= new string?[_starts.Length];
        if (_traceParents is { } traces)
        {
            Array.Copy(traces, at, traces, at + 1, tail);
            traces[at] = traceParent;
        }

        _starts[at] = start;
        _ends[at] = end;
        _permissions[at] = permissions;
        _count++;
        _lastHit = at;
    }

    /// <summary>Drops every translation overlapping [start, end) (a shootdown). Returns how many were dropped.</summary>
    public int Invalidate(ulong start, ulong end)
    {
        if (end <= start || _count == 0)
            return 0;
        var first = FirstEndingAfter(start);
        var last = first;
        while (last < _count && _starts[last] < end)
            last++;
        var removed = last - first;
        if (removed == 0)
            return 0;
        var tail = _count - last;
        Array.Copy(_starts, last, _starts, first, tail);
        Array.Copy(_ends, last, _ends, first, tail);
        Array.Copy(_permissions, last, _permissions, first, tail);
        if (_traceParents is { } traces)
        {
            Array.Copy(traces, last, traces, first, tail);
            // Drop references past the end, so a dropped change's text can be collected.
            Array.Clear(traces, _count - removed, removed);
        }

        _count -= removed;
        _lastHit = 0;
        return removed;
    }

    private void Grow()
    {
        var size = Math.Min(_capacity, Math.Max(InitialEntries, _starts.Length * 2));
        Array.Resize(ref _starts, size);
        Array.Resize(ref _ends, size);
        Array.Resize(ref _permissions, size);
        if (_traceParents is not null)
            Array.Resize(ref _traceParents, size);
    }

    /// <summary>Drops everything.</summary>
    public void Clear()
    {
        if (_traceParents is { } traces)
            Array.Clear(traces, 0, _count);
        _count = 0;
        _lastHit = 0;
    }

    /// <summary>Index of the first entry whose end is above <paramref name="gfn"/> (entries are sorted and disjoint).</summary>
    private int FirstEndingAfter(ulong gfn)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_ends[mid] <= gfn)
                lo = mid + 1;
            else
                hi = mid;
        }

        return lo;
    }
}
