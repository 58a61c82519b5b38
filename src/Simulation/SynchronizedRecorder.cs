namespace HekiActors.Simulation;

/// <summary>Serializes calls to a recorder: every VM's actor records from its own thread; each VM's lines stay in order.</summary>
internal sealed class SynchronizedRecorder(ISimulationRecorder inner) : ISimulationRecorder
{
    private readonly Lock _gate = new();

    public void Record(string jsonRequestLine)
    {
        lock (_gate)
            inner.Record(jsonRequestLine);
    }
}
