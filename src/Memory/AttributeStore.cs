using System.Runtime.CompilerServices;

namespace HekiActors.Memory;

/// <summary>
/// The per-VM map gfn → 64-bit KVM attribute word, stored as runs (heki-semantics.md §2). Where the kernel's
/// xarray holds one entry per 4 KiB page, this holds one boundary per change of word, so every operation costs
/// O(log runs + runs touched) and any gfn in [0, 2^64-1) and any range up to 2^64-1 pages works.
/// </summary>
/// <remarks>
/// Representation: sorted boundaries (key, word); the gfns [key_i, key_{i+1}) have word_i, the gfns below the
/// first key have word 0. Adjacent boundaries never share a word, so runs are maximal. Boundaries live in
/// leaves of at most <see cref="LeafCapacity"/> entries (a two-level B-tree), which keeps a single-page change
/// to a memmove inside one small leaf even with hundreds of thousands of runs. Lookups first try a
/// <see cref="LookupDirectory"/>: a byte per bucket of pages that, for buckets lying inside one run, names its
/// word directly. Single writer: the owner serializes calls.
/// </remarks>
public sealed class AttributeStore
{
    internal const int LeafCapacity = 64;
    private const int SplitFill = LeafCapacity * 3 / 4;

    private Leaf[] _leaves = [];
    private ulong[] _leafFirst = [];
    private int _leafCount;
    private int _boundaryCount;
    // Boundaries with a non-zero word: each starts one maximal run (adjacent boundaries never share a word).
    private int _runCount;
    private readonly LookupDirectory _directory;

    // Reused by SetAttributes so a change allocates nothing but the occasional new leaf. One pair per thread, not
    // per store: a change fills and consumes it within one call, and 10,000 VMs (plus the scratch copy every
    // multi-range hypercall evaluates on) need not hold 4 KB each (issue 11).
    [ThreadStatic] private static ulong[]? t_scratchKeys;
    [ThreadStatic] private static ulong[]? t_scratchWords;

    private static ulong[] ScratchKeys => t_scratchKeys ??= new ulong[LeafCapacity * 4];

    private static ulong[] ScratchWords => t_scratchWords ??= new ulong[ScratchKeys.Length];

    /// <summary>An empty store: every gfn has word 0.</summary>
    public AttributeStore() => _directory = new LookupDirectory(this);

    /// <summary>Number of boundaries (changes of word along the gfn line).</summary>
    public int BoundaryCount => _boundaryCount;

    /// <summary>Number of maximal runs with a non-zero word (kept up to date by every change: O(1)).</summary>
    public int RunCount => _runCount;

    /// <summary>Bytes held by the store's arrays (leaves, directory and scratch), for the memory target.</summary>
    public long ApproximateBytes
    {
        get
        {
            const int arrayOverhead = 24;
            long bytes = _leaves.Length * 8L + _leafFirst.Length * 8L + 2 * arrayOverhead;
            for (var i = 0; i < _leafCount; i++)
                bytes += _leaves[i].Bytes;
            return bytes + _directory.ApproximateBytes;
        }
    }

    /// <summary>kvm_get_memory_attributes: the word of <paramref name="gfn"/>, 0 when it has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong GetAttributes(ulong gfn)
    {
        if (_directory.TryGet(gfn, out var word))
            return word;
        return Search(gfn);
    }

    /// <summary>
    /// kvm_range_has_memory_attributes with match_all (§2): every gfn (match_all) or some gfn has all bits of
    /// <paramref name="attrs"/>. RFC quirk: with attrs == 0 both modes answer "the range has no entries".
    /// An empty range (end &lt;= start) has no entries, vacuously matches all, and matches none.
    /// </summary>
    public bool RangeHas(ulong start, ulong end, ulong attrs, bool matchAll)
    {
        if (end <= start)
            return attrs == 0 || matchAll;
        // The region holding `start`, then every boundary below `end`: a tight loop over the leaf arrays.
        var leafIndex = FindLeaf(start);
        int slot;
        ulong word;
        if (leafIndex < 0)
        {
            leafIndex = 0;
            slot = 0;
            word = 0;
        }
        else
        {
            var leaf = _leaves[leafIndex];
            slot = leaf.LastAtOrBelow(start);
            word = leaf.Words[slot];
            slot++;
        }

        if (Decides(word, attrs, matchAll, out var answer))
            return answer;
        for (; leafIndex < _leafCount; leafIndex++, slot = 0)
        {
            var leaf = _leaves[leafIndex];
            var keys = leaf.Keys;
            var words = leaf.Words;
            for (var count = leaf.Count; slot < count; slot++)
            {
                if (keys[slot] >= end)
                    return attrs == 0 || matchAll;
                if (Decides(words[slot], attrs, matchAll, out answer))
                    return answer;
            }
        }

        return attrs == 0 || matchAll;
    }

    /// <summary>Whether one region's word settles <see cref="RangeHas"/>, and how.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Decides(ulong word, ulong attrs, bool matchAll, out bool answer)
    {
        if (attrs == 0)
        {
            answer = false;
            return word != 0; // any entry at all answers "not empty"
        }

        var has = (word & attrs) == attrs;
        answer = has;
        return matchAll ? !has : has;
    }

    /// <summary>
    /// For every gfn in [start, end): new = (old &amp; ~mask) | (attributes &amp; mask); a word that becomes 0 is
    /// erased. Returns the smallest range covering every gfn whose word changed (empty when none did), which is
    /// what the caller must invalidate. A range where nothing changes is left untouched (§2, hardened no-op).
    /// </summary>
    public GfnRange SetAttributes(ulong start, ulong end, ulong attributes, ulong mask)
    {
        if (end <= start)
            return GfnRange.Empty;
        var set = attributes & mask;

        // Pass 1: the new boundaries for [start, end], coalesced with their neighbours.
        var cursor = new RegionCursor(this, start);
        var previous = start == 0 ? 0 : WordBefore(cursor, start);
        var emitted = 0;
        var lastWord = previous;
        ulong changedFirst = 0, changedEnd = 0;
        var changed = false;
        while (true)
        {
            var pieceStart = Math.Max(cursor.Start, start);
            var pieceEnd = Math.Min(cursor.End, end);
            var old = cursor.Word;
            var word = (old & ~mask) | set;
            if (word != old)
            {
                if (!changed)
                    changedFirst = pieceStart;
                changed = true;
                changedEnd = pieceEnd;
            }

            if (word != lastWord)
            {
                Emit(ref emitted, pieceStart, word);
                lastWord = word;
            }

            if (cursor.End >= end || !cursor.MoveNext())
                break;
        }

        if (!changed)
            return GfnRange.Empty;

        // gfns at and above `end` keep their word; gfn 2^64-1 is outside the gfn space, so no boundary there.
        if (end != ulong.MaxValue)
        {
            var after = GetAttributes(end);
            if (after != lastWord)
                Emit(ref emitted, end, after);
        }

        // Pass 2: replace every boundary with a key in [start, end] by the emitted ones.
        Splice(start, end, emitted);
        _directory.AfterChange(start, end);
        return new GfnRange(changedFirst, changedEnd);
    }

    /// <summary>The maximal runs with a non-zero word, in gfn order.</summary>
    public RunEnumerable Runs => new(this);

    /// <summary>A deep copy; O(runs).</summary>
    public AttributeStore Clone()
    {
        var copy = new AttributeStore
        {
            _leaves = new Leaf[Math.Max(_leafCount, 1)],
            _leafFirst = new ulong[Math.Max(_leafCount, 1)],
            _leafCount = _leafCount,
            _boundaryCount = _boundaryCount,
            _runCount = _runCount,
        };
        for (var i = 0; i < _leafCount; i++)
        {
            copy._leaves[i] = _leaves[i].Copy();
            copy._leafFirst[i] = _leafFirst[i];
        }

        // The copy's directory is built by its own lookups if it has enough of them (LookupDirectory rebuilds after
        // that many misses): most copies are scratch for one hypercall and are looked up a few times (issue 11).
        return copy;
    }

    // ---- lookup -----------------------------------------------------------------------------------------

    /// <summary>The word of <paramref name="gfn"/> by searching the leaves (the directory's fallback).</summary>
    internal ulong Search(ulong gfn)
    {
        // gfn 2^64-1 lies past every range's exclusive end, so nothing can ever be set there (as in the xarray).
        if (gfn == ulong.MaxValue)
            return 0;
        var leafIndex = FindLeaf(gfn);
        if (leafIndex < 0)
            return 0;
        var leaf = _leaves[leafIndex];
        var slot = leaf.LastAtOrBelow(gfn);
        return slot < 0 ? 0 : leaf.Words[slot];
    }

    /// <summary>Index of the last leaf whose first key is &lt;= key, or -1 when key precedes every boundary.</summary>
    private int FindLeaf(ulong key)
    {
        int lo = 0, hi = _leafCount - 1, found = -1;
        var first = _leafFirst;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (first[mid] <= key)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    private ulong WordBefore(RegionCursor cursorAtStart, ulong start)
    {
        // The region holding start-1 is the cursor's own unless start opens a region.
        if (cursorAtStart.Start < start || cursorAtStart.IsBeforeFirst)
            return cursorAtStart.Word;
        return GetAttributes(start - 1);
    }

    // ---- change -----------------------------------------------------------------------------------------

    private void Emit(ref int emitted, ulong key, ulong word)
    {
        if (emitted == ScratchKeys.Length)
        {
            Array.Resize(ref t_scratchKeys, emitted * 2);
            Array.Resize(ref t_scratchWords, emitted * 2);
        }

        ScratchKeys[emitted] = key;
        ScratchWords[emitted] = word;
        emitted++;
    }

    /// <summary>Replaces the boundaries with keys in [lowKey, highKey] by the first <paramref name="count"/> scratch entries.</summary>
    private void Splice(ulong lowKey, ulong highKey, int count)
    {
        if (_leafCount == 0)
        {
            if (count == 0)
                return;
            _runCount += NonZeroWords(ScratchWords.AsSpan(0, count));
            var leaves = count <= LeafCapacity ? 1 : (count + SplitFill - 1) / SplitFill;
            MakeRoom(0, leaves);
            FillLeaves(0, 0, count, leaves);
            _boundaryCount += count;
            return;
        }

        var firstLeaf = Math.Max(FindLeaf(lowKey), 0);
        var firstSlot = _leaves[firstLeaf].FirstAtOrAbove(lowKey);
        var lastLeaf = Math.Max(FindLeaf(highKey), 0);
        var lastSlot = _leaves[lastLeaf].LastAtOrBelow(highKey) + 1;
        _runCount += NonZeroWords(ScratchWords.AsSpan(0, count)) - NonZeroWordsBetween(firstLeaf, firstSlot, lastLeaf, lastSlot);

        // Fast path: the change stays inside one leaf with room for it.
        if (firstLeaf == lastLeaf)
        {
            var leaf = _leaves[firstLeaf];
            var removed = lastSlot - firstSlot;
            var newCount = leaf.Count - removed + count;
            if (newCount <= LeafCapacity && (newCount >= LeafCapacity / 8 || (_leafCount == 1 && newCount > 0)))
            {
                leaf.Replace(firstSlot, removed, ScratchKeys, ScratchWords, count);
                _boundaryCount += count - removed;
                if (leaf.Count > 0)
                    _leafFirst[firstLeaf] = leaf.Keys[0];
                return;
            }
        }

        // General path: gather the touched leaves with the change applied, then lay them out again.
        var from = firstLeaf;
        var to = lastLeaf;
        var total = firstSlot + count + (_leaves[lastLeaf].Count - lastSlot);
        // Merge a thin result into its left neighbour so leaves do not decay into slivers.
        if (total < LeafCapacity / 4 && from > 0 && _leaves[from - 1].Count + total <= SplitFill)
            from--;
        GatherAndLayOut(from, to, firstLeaf, firstSlot, lastLeaf, lastSlot, count);
    }

    private static int NonZeroWords(ReadOnlySpan<ulong> words) => words.Length - words.Count(0UL);

    /// <summary>Non-zero words of the boundaries from (firstLeaf, firstSlot) up to, not including, (lastLeaf, lastSlot).</summary>
    private int NonZeroWordsBetween(int firstLeaf, int firstSlot, int lastLeaf, int lastSlot)
    {
        var nonZero = 0;
        for (var i = firstLeaf; i <= lastLeaf; i++)
        {
            var leaf = _leaves[i];
            var from = i == firstLeaf ? firstSlot : 0;
            var to = i == lastLeaf ? lastSlot : leaf.Count;
            if (to > from)
                nonZero += NonZeroWords(leaf.Words.AsSpan(from, to - from));
        }

        return nonZero;
    }

    private void GatherAndLayOut(int from, int to, int firstLeaf, int firstSlot, int lastLeaf, int lastSlot, int count)
    {
        var prefix = 0;
        for (var i = from; i < firstLeaf; i++)
            prefix += _leaves[i].Count;
        prefix += firstSlot;
        var suffix = _leaves[lastLeaf].Count - lastSlot;
        var total = prefix + count + suffix;

        var removedBoundaries = 0;
        for (var i = from; i <= to; i++)
            removedBoundaries += _leaves[i].Count;

        // Scratch layout: [prefix][emitted][suffix]; emitted entries move right to make room for the prefix.
        EnsureScratch(total);
        Array.Copy(ScratchKeys, 0, ScratchKeys, prefix, count);
        Array.Copy(ScratchWords, 0, ScratchWords, prefix, count);
        var at = 0;
        for (var i = from; i < firstLeaf; i++)
        {
            var leaf = _leaves[i];
            Array.Copy(leaf.Keys, 0, ScratchKeys, at, leaf.Count);
            Array.Copy(leaf.Words, 0, ScratchWords, at, leaf.Count);
            at += leaf.Count;
        }

        Array.Copy(_leaves[firstLeaf].Keys, 0, ScratchKeys, at, firstSlot);
        Array.Copy(_leaves[firstLeaf].Words, 0, ScratchWords, at, firstSlot);
        Array.Copy(_leaves[lastLeaf].Keys, lastSlot, ScratchKeys, prefix + count, suffix);
        Array.Copy(_leaves[lastLeaf].Words, lastSlot, ScratchWords, prefix + count, suffix);

        _boundaryCount += total - removedBoundaries;
        var newLeaves = total == 0 ? 0 : total <= LeafCapacity ? 1 : (total + SplitFill - 1) / SplitFill;
        RemoveLeaves(from, to - from + 1, newLeaves);
        InsertLeavesFromScratch(from, total, newLeaves);
    }

    private void EnsureScratch(int size)
    {
        if (ScratchKeys.Length >= size)
            return;
        var length = Math.Max(size, ScratchKeys.Length * 2);
        Array.Resize(ref t_scratchKeys, length);
        Array.Resize(ref t_scratchWords, length);
    }

    private void InsertLeavesFromScratch(int index, int total, int newLeaves)
    {
        if (newLeaves == 0)
            return;
        FillLeaves(index, 0, total, newLeaves);
    }

    private void FillLeaves(int index, int offset, int total, int newLeaves)
    {
        var at = offset;
        for (var i = 0; i < newLeaves; i++)
        {
            // Spread evenly so every new leaf keeps room for growth.
            var size = total / newLeaves + (i < total % newLeaves ? 1 : 0);
            var leaf = _leaves[index + i] ??= new Leaf(Leaf.SlotsFor(size));
            leaf.Set(ScratchKeys, ScratchWords, at, size);
            _leafFirst[index + i] = leaf.Keys[0];
            at += size;
        }
    }

    /// <summary>Turns the <paramref name="removeCount"/> leaves at <paramref name="index"/> into <paramref name="keep"/> slots to refill.</summary>
    private void RemoveLeaves(int index, int removeCount, int keep)
    {
        if (keep > removeCount)
        {
            MakeRoom(index + removeCount, keep - removeCount);
            return;
        }

        var drop = removeCount - keep;
        if (drop == 0)
            return;
        var tail = _leafCount - (index + removeCount);
        Array.Copy(_leaves, index + removeCount, _leaves, index + keep, tail);
        Array.Copy(_leafFirst, index + removeCount, _leafFirst, index + keep, tail);
        _leafCount -= drop;
        Array.Clear(_leaves, _leafCount, drop);
    }

    /// <summary>Opens <paramref name="count"/> empty leaf slots at <paramref name="index"/>.</summary>
    private void MakeRoom(int index, int count)
    {
        if (_leafCount + count > _leaves.Length)
        {
            var length = Math.Max(_leafCount + count, Math.Max(4, _leaves.Length * 2));
            Array.Resize(ref _leaves, length);
            Array.Resize(ref _leafFirst, length);
        }

        Array.Copy(_leaves, index, _leaves, index + count, _leafCount - index);
        Array.Copy(_leafFirst, index, _leafFirst, index + count, _leafCount - index);
        for (var i = index; i < index + count; i++)
            _leaves[i] = null!;
        _leafCount += count;
    }

    // ---- iteration --------------------------------------------------------------------------------------

    /// <summary>The lowest boundary key (only when <see cref="BoundaryCount"/> &gt; 0).</summary>
    internal ulong FirstKey => _leafFirst[0];

    /// <summary>The highest boundary key (only when <see cref="BoundaryCount"/> &gt; 0).</summary>
    internal ulong LastKey
    {
        get
        {
            var leaf = _leaves[_leafCount - 1];
            return leaf.Keys[leaf.Count - 1];
        }
    }

    /// <summary>Position of the region (possibly the implicit zero region) holding a gfn, and iteration onward.</summary>
    /// <remarks>Caches the current leaf's arrays and the region's bounds, so walking runs is a few loads per run.</remarks>
    internal struct RegionCursor
    {
        private readonly Leaf[] _leaves;
        private readonly ulong[] _leafFirst;
        private readonly int _leafCount;
        private int _leaf;
        private int _slot; // -1 with _leaf 0: the implicit region below the first boundary
        private ulong[] _keys;
        private ulong[] _words;
        private int _count;

        public RegionCursor(AttributeStore store, ulong gfn)
        {
            _leaves = store._leaves;
            _leafFirst = store._leafFirst;
            _leafCount = store._leafCount;
            var leaf = store.FindLeaf(gfn);
            _leaf = Math.Max(leaf, 0);
            if (_leafCount == 0)
            {
                _keys = _words = [];
                _count = 0;
                _slot = -1;
            }
            else
            {
                var current = _leaves[_leaf];
                _keys = current.Keys;
                _words = current.Words;
                _count = current.Count;
                _slot = leaf < 0 ? -1 : current.LastAtOrBelow(gfn);
            }

            Start = Word = End = 0;
            Load();
        }

        public readonly bool IsBeforeFirst => _slot < 0;

        /// <summary>First gfn of the region (0 for the implicit region below the first boundary).</summary>
        public ulong Start { get; private set; }

        public ulong Word { get; private set; }

        /// <summary>Exclusive end; ulong.MaxValue (the end of the gfn space) for the last region.</summary>
        public ulong End { get; private set; }

        public bool MoveNext()
        {
            if (_slot + 1 < _count)
            {
                _slot++;
            }
            else if (_leaf + 1 < _leafCount)
            {
                _leaf++;
                var current = _leaves[_leaf];
                _keys = current.Keys;
                _words = current.Words;
                _count = current.Count;
                _slot = 0;
            }
            else
            {
                return false;
            }

            Load();
            return true;
        }

        private void Load()
        {
            var slot = _slot;
            Start = slot < 0 ? 0 : _keys[slot];
            Word = slot < 0 ? 0 : _words[slot];
            if (slot + 1 < _count)
                End = _keys[slot + 1];
            else
                End = _leaf + 1 < _leafCount ? _leafFirst[_leaf + 1] : ulong.MaxValue;
        }
    }

    /// <summary>Boundaries in key order.</summary>
    internal struct BoundaryEnumerator
    {
        private readonly AttributeStore _store;
        private int _leaf;
        private int _slot;

        public BoundaryEnumerator(AttributeStore store)
        {
            _store = store;
            _leaf = 0;
            _slot = -1;
        }

        public readonly BoundaryEnumerator GetEnumerator() => this;

        public readonly (ulong Key, ulong Word) Current => (_store._leaves[_leaf].Keys[_slot], _store._leaves[_leaf].Words[_slot]);

        public bool MoveNext()
        {
            if (_leaf >= _store._leafCount)
                return false;
            if (++_slot < _store._leaves[_leaf].Count)
                return true;
            _leaf++;
            _slot = 0;
            return _leaf < _store._leafCount;
        }
    }

    /// <summary>Enumerates <see cref="AttributeRun"/>s without allocating.</summary>
    public readonly struct RunEnumerable(AttributeStore store) : IEnumerable<AttributeRun>
    {
        public RunEnumerator GetEnumerator() => new(store);

        IEnumerator<AttributeRun> IEnumerable<AttributeRun>.GetEnumerator() => GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Walks boundaries and yields the non-zero regions as runs.</summary>
    public struct RunEnumerator : IEnumerator<AttributeRun>
    {
        private BoundaryEnumerator _boundaries;
        private bool _havePending;
        private (ulong Key, ulong Word) _pending;

        internal RunEnumerator(AttributeStore store)
        {
            _boundaries = new BoundaryEnumerator(store);
            _havePending = _boundaries.MoveNext();
            _pending = _havePending ? _boundaries.Current : default;
            Current = default;
        }

        public AttributeRun Current { get; private set; }

        readonly object System.Collections.IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (_havePending)
            {
                var (key, word) = _pending;
                _havePending = _boundaries.MoveNext();
                var end = ulong.MaxValue;
                if (_havePending)
                {
                    _pending = _boundaries.Current;
                    end = _pending.Key;
                }

                if (word != 0)
                {
                    Current = new AttributeRun(key, end, word);
                    return true;
                }
            }

            return false;
        }

        public readonly void Reset() => throw new NotSupportedException();

        public readonly void Dispose()
        {
        }
    }

    /// <summary>One leaf: up to <see cref="LeafCapacity"/> sorted boundaries.</summary>
    /// <remarks>
    /// Its arrays hold a power of two of slots, from <see cref="MinSlots"/> up to <see cref="LeafCapacity"/>, grown as
    /// boundaries arrive: a booted VM's store is two leaves of 9–16 boundaries each, kept through the run, and each
    /// multi-range PROTECT_MEMORY evaluates on a copy (issue 11: full-size leaves were ~1 KB a VM kept and ~6 KB of copies
    /// a VM's boot).
    /// </remarks>
    private sealed class Leaf(int slots)
    {
        private const int MinSlots = 16;

        public ulong[] Keys = new ulong[slots];
        public ulong[] Words = new ulong[slots];
        public int Count;

        /// <summary>Bytes this leaf holds (its object and both arrays).</summary>
        public long Bytes => 2 * (Keys.Length * 8L + 24) + 32;

        /// <summary>The slots a leaf of <paramref name="count"/> boundaries is given.</summary>
        public static int SlotsFor(int count) =>
            Math.Min(LeafCapacity, Math.Max(MinSlots, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)count)));

        public Leaf Copy()
        {
            var copy = new Leaf(SlotsFor(Count)) { Count = Count };
            Array.Copy(Keys, copy.Keys, Count);
            Array.Copy(Words, copy.Words, Count);
            return copy;
        }

        private void EnsureSlots(int count)
        {
            if (Keys.Length >= count)
                return;
            var slots = SlotsFor(count);
            Array.Resize(ref Keys, slots);
            Array.Resize(ref Words, slots);
        }

        /// <summary>Last slot whose key is &lt;= key, or -1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int LastAtOrBelow(ulong key)
        {
            int lo = 0, hi = Count - 1, found = -1;
            var keys = Keys;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (keys[mid] <= key)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return found;
        }

        /// <summary>First slot whose key is &gt;= key, or Count.</summary>
        public int FirstAtOrAbove(ulong key)
        {
            var slot = LastAtOrBelow(key);
            return slot >= 0 && Keys[slot] == key ? slot : slot + 1;
        }

        public void Replace(int at, int removed, ulong[] keys, ulong[] words, int count)
        {
            EnsureSlots(Count - removed + count);
            var tail = Count - (at + removed);
            Array.Copy(Keys, at + removed, Keys, at + count, tail);
            Array.Copy(Words, at + removed, Words, at + count, tail);
            Array.Copy(keys, 0, Keys, at, count);
            Array.Copy(words, 0, Words, at, count);
            Count += count - removed;
        }

        public void Set(ulong[] keys, ulong[] words, int offset, int count)
        {
            EnsureSlots(count);
            Array.Copy(keys, offset, Keys, 0, count);
            Array.Copy(words, offset, Words, 0, count);
            Count = count;
        }
    }
}
