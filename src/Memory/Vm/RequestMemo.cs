namespace HekiActors.Memory.Vm;

/// <summary>
/// The last <see cref="Capacity"/> request ids and what each was answered, oldest forgotten first: a duplicate request
/// (a retry, or a message delivered twice) finds its first answer. Bounded, so no stream of requests grows it. The
/// empty id is never remembered (a request without an id is not deduplicated).
/// </summary>
public class RequestMemo<T>
{
    private readonly Dictionary<Guid, T> _answers = new();
    private readonly Queue<Guid> _order = new();

    /// <param name="capacity">How many answers are kept (at least 1).</param>
    public RequestMemo(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => _answers.Count;

    public bool TryGet(Guid requestId, out T answer) => _answers.TryGetValue(requestId, out answer!);

    /// <summary>Remembers the first answer to <paramref name="requestId"/>; a later one for the same id is ignored.</summary>
    public void Remember(Guid requestId, T answer)
    {
        if (requestId == Guid.Empty || !_answers.TryAdd(requestId, answer))
            return;
        _order.Enqueue(requestId);
        if (_order.Count > Capacity)
            _answers.Remove(_order.Dequeue());
    }

    /// <summary>The remembered ids with their answers, oldest first.</summary>
    protected IEnumerable<KeyValuePair<Guid, T>> Entries() => _order.Select(id => KeyValuePair.Create(id, _answers[id]));
}
