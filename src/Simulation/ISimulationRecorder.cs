namespace HekiActors.Simulation;

/// <summary>
/// Receives every operation a simulation performs that changes or probes state (VM creation, hypercalls, CR
/// writes, attack accesses, per-round workload samples), in an order that replays to the same results, as
/// replay-format request objects (one JSON object per call, without a trailing newline).
/// </summary>
public interface ISimulationRecorder
{
    void Record(string jsonRequestLine);
}
