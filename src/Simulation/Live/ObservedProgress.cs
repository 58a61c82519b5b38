using HekiActors.Actors.Supervision;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Live;

/// <summary>
/// A run's progress receiver that feeds a <see cref="SimulationLiveRecorder"/> besides an ordinary display (the
/// progress line): the engine sees it as an <see cref="IWarningObserver"/> too, so the recorder gets every warning
/// decision.
/// </summary>
public sealed class ObservedProgress(IProgress<SimulationProgress>? display, SimulationLiveRecorder recorder)
    : IProgress<SimulationProgress>, IWarningObserver
{
    public void Report(SimulationProgress value)
    {
        recorder.Report(value);
        display?.Report(value);
    }

    public void Decided(IWarningReport report, bool printed) => recorder.Decided(report, printed);
}
