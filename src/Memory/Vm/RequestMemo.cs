namespace HekiActors.Memory.Vm;

/// <summary>
/// The last <see cref="Capacity"/> request ids and what each was answered, oldest forgotten first: a duplicate request
/// (a retry, or a message delivered twice) finds its first answer. Bounded, so no stream of requests grows it. The
/// empty id is never remembered (a request without an id is not deduplicated).
/// </summary>
/// <remarks>
/// Every VM holds one, and a booted VM has answered about ten requests (issue 11): the entries live in one ring made at
/// the first answer with <see cref="FirstSlots"/> slots (a boot's answers fit), doubled as needed, and are searched in
/// place while few; an index by id is built only past <see cref="IndexedFrom"/> entries. A dictionary and a queue from the
/// start were five objects and ~850 bytes a VM kept through the run, and their regrowth ~1.7 KB of garbage a VM's boot.
/// </remarks>
public class RequestMemo<T>
{
    private const int FirstSlots = 16;
    private const int IndexedFrom = 32;

    // The remembered entries, oldest at _head, in a ring of _ring.Length slots (a power of two up to the capacity).
    private Entry[] _ring = [];
    private int _head;
    private int _count;
    private Dictionary<Guid, T>? _index;

    /// <param name="capacity">How many answers are kept (at least 1).</param>
    public RequestMemo(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => _count;

    public bool TryGet(Guid requestId, out T answer)
    {
        if (_index is not null)
            return _index.TryGetValue(requestId, out answer!);
        var at = Find(requestId);
        answer = at >= 0 ? _ring[at].Answer : default!;
        return at >= 0;
    }

    /// <summary>Remembers the first answer to <paramref name="requestId"/>; a later one for the same id is ignored.</summary>
    public void Remember(Guid requestId, T answer)
    {
        if (requestId == Guid.Empty || (_index is not null ? _index.ContainsKey(requestId) : Find(requestId) >= 0))
            return;
        if (_count == Capacity)
        {
            // Full: the oldest is forgotten and its slot takes the new one.
            _index?.Remove(_ring[_head].Id);
            _ring[_head] = new Entry(requestId, answer);
            _head = (_head + 1) % _ring.Length;
            _index?.Add(requestId, answer);
            return;
        }

        if (_count == _ring.Length)
            Grow();
        _ring[(_head + _count) % _ring.Length] = new Entry(requestId, answer);
        _count++;
        if (_index is not null)
            _index.Add(requestId, answer);
        else if (_count > IndexedFrom)
            BuildIndex();
    }

    /// <summary>The remembered ids with their answers, oldest first.</summary>
    protected IEnumerable<KeyValuePair<Guid, T>> Entries()
    {
        for (var i = 0; i < _count; i++)
        {
            var entry = _ring[(_head + i) % _ring.Length];
            yield return KeyValuePair.Create(entry.Id, entry.Answer);
        }
    }

    private int Find(Guid requestId)
    {
        for (var i = 0; i < _count; i++)
        {
            var at = (_head + i) % _ring.Length;
            if (_ring[at].Id == requestId)
                return at;
        }

        return -1;
    }

    private void Grow()
    {
        // The ring never holds more than the capacity: a memo of 1,000 answers does not keep 1,024 slots.
        var grown = new Entry[Math.Min(Math.Max(FirstSlots, _ring.Length * 2), Capacity)];
        for (var i = 0; i < _count; i++)
            grown[i] = _ring[(_head + i) % _ring.Length];
        _ring = grown;
        _head = 0;
    }

    private void BuildIndex()
    {
        _index = new Dictionary<Guid, T>(Math.Min(Capacity, _ring.Length * 2));
        foreach (var (id, answer) in Entries())
            _index.Add(id, answer);
    }

    private readonly record struct Entry(Guid Id, T Answer);
}
