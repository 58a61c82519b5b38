using HekiActors.Memory.Vm;

namespace HekiActors.Actors.Vm;

/// <summary>The last <see cref="Capacity"/> answers to requests that changed nothing, oldest forgotten first.</summary>
internal sealed class AnswerMemo
{
    public const int Capacity = 1024;

    private readonly Dictionary<Guid, VmOutcome> _answers = new();
    private readonly Queue<Guid> _order = new();

    public bool TryGet(Guid requestId, out VmOutcome answer) => _answers.TryGetValue(requestId, out answer!);

    public void Remember(Guid requestId, VmOutcome answer)
    {
        if (requestId == Guid.Empty || !_answers.TryAdd(requestId, answer))
            return;
        _order.Enqueue(requestId);
        if (_order.Count > Capacity)
            _answers.Remove(_order.Dequeue());
    }
}
