using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HekiActors.Memory;

/// <summary>
/// A lookup accelerator for <see cref="AttributeStore"/>: the window [first boundary, last boundary) cut into
/// power-of-two buckets of pages, about 32 per boundary, one byte each. A bucket lying inside one run holds that
/// run's word as an index into a small palette of distinct words; a bucket a boundary cuts holds
/// <see cref="Mixed"/> and the lookup searches the leaves. So a random lookup is usually two loads, like a flat
/// array, while memory stays O(runs). It is a cache: rebuilt when the store grows or shrinks by a factor, or
/// after enough lookups fell outside its window; otherwise changed buckets are refilled in place.
/// </summary>
internal sealed class LookupDirectory
{
    private const byte Mixed = byte.MaxValue;
    private const int BucketsPerBoundary = 32;
    private const int MinBuckets = 64;

    private readonly AttributeStore _store;
    private byte[] _buckets = [];
    private ulong _bucketCount;
    private ulong _origin;
    private int _shift;
    // gfn - _origin below this (wrapping) is inside the window: one compare instead of two (set by Rebuild).
    private ulong _windowLimit;
    // The distinct words, indexed by a bucket's byte; grown on demand (a store has a handful of distinct words, and
    // a fixed 256-entry palette was 2 KB in every VM's store and in every scratch copy: issue 11). Every index a
    // bucket holds (other than Mixed, never read) was given out by PaletteIndex, so it is below _paletteIndex.Count.
    private ulong[] _palette = [];
    private readonly Dictionary<ulong, byte> _paletteIndex = new();
    private int _builtForBoundaries;
    private long _outsideMisses;

    public LookupDirectory(AttributeStore store) => _store = store;

    public long ApproximateBytes => _buckets.Length + 24 + _palette.Length * 8L + 24 + _paletteIndex.Count * 24 + 80;

    /// <summary>The word for <paramref name="gfn"/> when its bucket lies inside one run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ulong gfn, out ulong word)
    {
        // Same test as gfn >= _origin && (gfn - _origin) >> _shift < _bucketCount (see Rebuild).
        var offset = gfn - _origin;
        if (offset < _windowLimit)
        {
            var index = _buckets[(int)(offset >> _shift)];
            if (index != Mixed)
            {
                // In bounds by the invariant above: read without a bounds check on the lookup path.
                word = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_palette), (nint)index);
                return true;
            }
        }
        else
        {
            NoteOutsideMiss();
        }

        word = 0;
        return false;
    }

    private void NoteOutsideMiss()
    {
        // Amortized: a rebuild costs O(buckets + boundaries), paid for by at least as many slow lookups.
        if (++_outsideMisses > (long)_bucketCount + _store.BoundaryCount + MinBuckets)
            Rebuild();
    }

    /// <summary>Brings the buckets overlapping [start, end] up to date after the store changed there.</summary>
    public void AfterChange(ulong start, ulong end)
    {
        var boundaries = _store.BoundaryCount;
        if (boundaries > 2 * _builtForBoundaries + MinBuckets || boundaries < _builtForBoundaries / 4)
        {
            Rebuild();
            return;
        }

        if (_bucketCount == 0 || end < _origin)
            return;
        var first = start <= _origin ? 0 : (start - _origin) >> _shift;
        var last = Math.Min(_bucketCount - 1, (end - _origin) >> _shift);
        if (first <= last)
            Fill(first, last);
    }

    /// <summary>Lays the window over the store as it is now.</summary>
    public void Rebuild()
    {
        var boundaries = _store.BoundaryCount;
        _builtForBoundaries = boundaries;
        _outsideMisses = 0;
        _paletteIndex.Clear();
        if (boundaries < 2)
        {
            _bucketCount = 0;
            _windowLimit = 0;
            _buckets = [];
            return;
        }

        _origin = _store.FirstKey;
        var span = _store.LastKey - _origin;
        var target = (ulong)Math.Max(MinBuckets, (long)boundaries * BucketsPerBoundary);
        var shift = 0;
        while (((span - 1) >> shift) + 1 > target)
            shift++;
        _shift = shift;
        _bucketCount = ((span - 1) >> shift) + 1;
        if ((ulong)_buckets.Length != _bucketCount)
            _buckets = new byte[_bucketCount];
        // Window end in offsets (saturated), capped so that a gfn below _origin, whose offset wraps to at
        // least 2^64 - _origin, is outside. A gfn the cap turns away only falls back to the leaf search.
        var windowPages = _bucketCount > ulong.MaxValue >> shift ? ulong.MaxValue : _bucketCount << shift;
        _windowLimit = _origin == 0 ? windowPages : Math.Min(windowPages, 0 - _origin);
        Fill(0, _bucketCount - 1);
    }

    /// <summary>Recomputes buckets [first, last]: O(runs there + buckets there / vector width).</summary>
    private void Fill(ulong first, ulong last)
    {
        var cursor = new AttributeStore.RegionCursor(_store, _origin + (first << _shift));
        var cachedWord = 0UL;
        var cachedIndex = PaletteIndex(0);
        var bucket = first;
        while (bucket <= last)
        {
            var bucketStart = _origin + (bucket << _shift);
            while (cursor.End <= bucketStart)
                cursor.MoveNext();
            var regionEnd = cursor.End;
            // Buckets wholly below the region's end lie inside this one region.
            var fullEnd = regionEnd == ulong.MaxValue ? last + 1 : Math.Min(last + 1, (regionEnd - _origin) >> _shift);
            if (fullEnd > bucket)
            {
                var word = cursor.Word;
                if (word != cachedWord)
                {
                    cachedWord = word;
                    cachedIndex = PaletteIndex(word);
                }

                _buckets.AsSpan((int)bucket, (int)(fullEnd - bucket)).Fill(cachedIndex);
                bucket = fullEnd;
            }
            else
            {
                _buckets[bucket] = Mixed;
                bucket++;
            }
        }
    }

    private byte PaletteIndex(ulong word)
    {
        if (_paletteIndex.TryGetValue(word, out var index))
            return index;
        if (_paletteIndex.Count == Mixed)
            return Mixed; // more distinct words than a byte names: those buckets search the leaves
        index = (byte)_paletteIndex.Count;
        if (index == _palette.Length)
            Array.Resize(ref _palette, Math.Max(8, _palette.Length * 2));
        _palette[index] = word;
        _paletteIndex.Add(word, index);
        return index;
    }
}
