namespace HekiActors.Memory.Vm;

/// <summary>
/// The requests a VM answered with a change and their results, part of its durable state (snapshots carry them), so
/// a duplicate request gets the first answer and is applied once.
/// </summary>
public sealed class AnsweredRequests(int capacity = AnsweredRequests.DefaultCapacity) : RequestMemo<RecordedAnswer>(capacity)
{
    public const int DefaultCapacity = 4096;

    public AnsweredRequest[] ToArray() =>
        Entries().Select(entry => new AnsweredRequest(entry.Key, entry.Value.Result, entry.Value.HostIntegrityFaults)).ToArray();
}

/// <summary>
/// What a request that changed the VM was answered: its result (a return value; for a CR write 1 when written) and,
/// for a heki-v2 PROTECT_MEMORY list, how many list pages the RFC read past their end (the reply carries both).
/// </summary>
public readonly record struct RecordedAnswer(long Result, int HostIntegrityFaults = 0);
