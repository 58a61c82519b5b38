namespace HekiActors.Memory.Vm;

/// <summary>
/// The last <see cref="Capacity"/> answered request ids and their results, oldest evicted first, so a duplicate
/// request (a retry, or a message delivered twice) gets the first answer and is applied once.
/// </summary>
public sealed class AnsweredRequests
{
    public const int DefaultCapacity = 4096;

    private readonly Dictionary<Guid, long> _results = new();
    private readonly Queue<Guid> _order = new();

    public AnsweredRequests(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => _results.Count;

    public bool TryGet(Guid requestId, out long result) => _results.TryGetValue(requestId, out result);

    public void Remember(Guid requestId, long result)
    {
        if (requestId == Guid.Empty || !_results.TryAdd(requestId, result))
            return;
        _order.Enqueue(requestId);
        if (_order.Count > Capacity)
            _results.Remove(_order.Dequeue());
    }

    public AnsweredRequest[] ToArray() => _order.Select(id => new AnsweredRequest(id, _results[id])).ToArray();
}
