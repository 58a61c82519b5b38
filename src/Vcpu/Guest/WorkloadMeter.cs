namespace HekiActors.Vcpu.Guest;

/// <summary>
/// Live progress of a simulation's workload, shared by its vCPUs: accesses counted per chunk (one interlocked
/// add per few thousand accesses, never per access) and a stop flag checked per chunk. Final, deterministic
/// counts travel in the vCPUs' replies; this is only for progress displays and early stops.
/// </summary>
public sealed class WorkloadMeter
{
    private long _accesses;
    private long _faulted;
    private volatile bool _stopped;

    public long Accesses => Interlocked.Read(ref _accesses);

    public long Faulted => Interlocked.Read(ref _faulted);

    /// <summary>Set to make every running workload stop after its current chunk.</summary>
    public bool Stopped => _stopped;

    public void Stop() => _stopped = true;

    public void Add(long accesses, long faulted)
    {
        Interlocked.Add(ref _accesses, accesses);
        if (faulted != 0)
            Interlocked.Add(ref _faulted, faulted);
    }
}
