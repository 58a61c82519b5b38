namespace HekiActors.Observability.Live;

/// <summary>
/// The keys (VMs) with the highest counts, kept exactly and incrementally: each <see cref="Add"/> costs a dictionary
/// lookup and, only for a key that enters or moves within the top, a step of insertion into a short sorted array, so
/// reading the top costs <see cref="Size"/> entries however many keys there are. Each key also keeps its last few
/// events, and a tally per category. Counts only grow, which is what keeps the top exact: a key outside it never has
/// more than the smallest count inside. Thread-safe (one lock; writers and readers are few).
/// </summary>
/// <typeparam name="TEvent">What a key's recent events are (kept as they are given).</typeparam>
public sealed class TopOffenders<TEvent>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Entry[] _top;
    private readonly int _categories;
    private readonly int _eventsPerKey;
    private int _topCount;

    /// <param name="size">How many keys the top holds.</param>
    /// <param name="categories">Tallies per key (e.g. #PF and #GP).</param>
    /// <param name="eventsPerKey">Recent events kept per key (older ones are overwritten).</param>
    public TopOffenders(int size = 10, int categories = 1, int eventsPerKey = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(categories, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(eventsPerKey, 1);
        _top = new Entry[size];
        _categories = categories;
        _eventsPerKey = eventsPerKey;
    }

    public int Size => _top.Length;

    /// <summary>Keys seen so far.</summary>
    public int Keys
    {
        get
        {
            lock (_gate)
                return _entries.Count;
        }
    }

    /// <summary>Records an event of <paramref name="key"/>; <paramref name="category"/> ≥ 0 adds one to that tally and to the key's count.</summary>
    /// <param name="category">The tally the event counts in, or -1 for an event that does not count (kept as recent only).</param>
    public void Add(string key, int category, TEvent @event)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                entry = new Entry(key, _categories);
                _entries.Add(key, entry);
            }

            entry.Events ??= new TEvent[_eventsPerKey];
            entry.Events[entry.EventsWritten++ % _eventsPerKey] = @event;
            if (category < 0)
                return;
            entry.Tallies[category]++;
            entry.Count++;
            Promote(entry);
        }
    }

    /// <summary>The top keys, highest count first (ties: the one that got there first).</summary>
    public IReadOnlyList<Offender> Top()
    {
        lock (_gate)
        {
            var top = new Offender[_topCount];
            for (var i = 0; i < _topCount; i++)
                top[i] = new Offender(_top[i].Key, _top[i].Count, (long[])_top[i].Tallies.Clone());
            return top;
        }
    }

    /// <summary>The key's count and tallies, or null for a key never seen.</summary>
    public Offender? Of(string key)
    {
        lock (_gate)
            return _entries.TryGetValue(key, out var e) ? new Offender(e.Key, e.Count, (long[])e.Tallies.Clone()) : null;
    }

    /// <summary>The key's last events, oldest first (empty for a key never seen).</summary>
    public IReadOnlyList<TEvent> RecentEvents(string key)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var entry) || entry.Events is null)
                return [];
            var n = (int)Math.Min(entry.EventsWritten, _eventsPerKey);
            var events = new TEvent[n];
            for (var i = 0; i < n; i++)
                events[i] = entry.Events[(entry.EventsWritten - n + i) % _eventsPerKey];
            return events;
        }
    }

    private void Promote(Entry entry)
    {
        var at = entry.TopIndex;
        if (at < 0)
        {
            if (_topCount < _top.Length)
                at = _topCount++;
            else if (entry.Count > _top[^1].Count)
            {
                _top[^1].TopIndex = -1;
                at = _top.Length - 1;
            }
            else
                return;
            _top[at] = entry;
            entry.TopIndex = at;
        }

        // Move up past every entry with a smaller count (a strictly larger count is needed to pass: ties keep their order).
        while (at > 0 && _top[at - 1].Count < entry.Count)
        {
            _top[at] = _top[at - 1];
            _top[at].TopIndex = at;
            at--;
        }

        _top[at] = entry;
        entry.TopIndex = at;
    }

    private sealed class Entry(string key, int categories)
    {
        public string Key { get; } = key;
        public long Count { get; set; }
        public long[] Tallies { get; } = new long[categories];
        public TEvent[]? Events { get; set; }
        public long EventsWritten { get; set; }
        public int TopIndex { get; set; } = -1;
    }
}

/// <summary>A key of <see cref="TopOffenders{TEvent}"/> with its count and tallies.</summary>
public sealed record Offender(string Key, long Count, IReadOnlyList<long> Tallies);
