namespace HekiActors.Memory.Vm;

/// <summary>
/// The requests a VM answered with a change and their results, part of its durable state (snapshots carry them), so
/// a duplicate request gets the first answer and is applied once.
/// </summary>
public sealed class AnsweredRequests(int capacity = AnsweredRequests.DefaultCapacity) : RequestMemo<long>(capacity)
{
    public const int DefaultCapacity = 4096;

    public AnsweredRequest[] ToArray() => Entries().Select(entry => new AnsweredRequest(entry.Key, entry.Value)).ToArray();
}
