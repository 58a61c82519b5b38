namespace HekiActors.Simulation;

/// <summary>Runs one simulation on an actor system it starts and stops itself.</summary>
public interface ISimulationEngine
{
    /// <summary>
    /// Boots <see cref="SimulationSpec.Vms"/> VMs with their guest kernels, runs the workload and attacks in
    /// rounds, and returns the counts. Progress is reported about twice a second; the recorder, when given,
    /// receives the run's operations in replay format. Cancellation stops the run early with what was counted.
    /// A <paramref name="progress"/> that is also an <see cref="Actors.Supervision.IWarningObserver"/> sees every
    /// warning decision as it is made (each #PF and refused CR write, with its VM): a live dashboard's source.
    /// </summary>
    Task<SimulationResult> RunAsync(SimulationSpec spec, IProgress<SimulationProgress>? progress,
        ISimulationRecorder? recorder, CancellationToken cancellationToken) =>
        RunAsync(spec, JournalStart.None, progress, recorder, cancellationToken);

    /// <summary>
    /// <see cref="RunAsync(SimulationSpec, IProgress{SimulationProgress}?, ISimulationRecorder?, CancellationToken)"/> on a
    /// journal that holds VMs of an earlier run: <paramref name="start"/> says which to destroy first and which to take over.
    /// </summary>
    Task<SimulationResult> RunAsync(SimulationSpec spec, JournalStart start, IProgress<SimulationProgress>? progress,
        ISimulationRecorder? recorder, CancellationToken cancellationToken);
}
