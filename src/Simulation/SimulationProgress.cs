using HekiActors.Observability;

namespace HekiActors.Simulation;

/// <summary>
/// A snapshot of a running simulation, reported periodically (about twice a second). The counts use the words of
/// <see cref="HekiVocabulary"/>: <paramref name="Accesses"/> are workload and attack accesses, <paramref name="Violations"/>
/// #PF faults plus CR-pin #GP blocks. The last snapshot (phase "done") carries the report's own figures.
/// </summary>
/// <param name="AccessesPerSecond">The report's rate, on the last snapshot only (null while running: displays measure it).</param>
public sealed record SimulationProgress(
    string Phase,
    int VmsBooted,
    int VmsTotal,
    long Accesses,
    long Violations,
    long AttacksBlocked,
    long AttacksSucceeded,
    TimeSpan Elapsed,
    double Fraction,
    double? AccessesPerSecond = null)
{
    /// <summary>The phase of the last snapshot, which carries the report's figures (at <see cref="Fraction"/> 1 however the run ended).</summary>
    public const string DonePhase = "done";

    /// <summary>
    /// How a display names the last snapshot of a run that was told to stop (a signal): it shows the fraction the run
    /// had reached instead of 1 (the engine reports <see cref="DonePhase"/> either way).
    /// </summary>
    public const string StoppedPhase = "stopped";

    /// <summary>Of <see cref="Accesses"/>, those sent one at a time as guest operations (the attacker's probes), counted per finished round.</summary>
    public long AttackAccesses { get; init; }

    /// <summary>VMs whose guest kernel could not protect itself at boot (<see cref="HekiVocabulary.BootProtectionFailures"/>), counted as they boot.</summary>
    public long BootProtectionFailures { get; init; }

    /// <summary>The report's own counts, on the last snapshot (phase "done") only.</summary>
    public HekiCounts? Final { get; init; }
}
