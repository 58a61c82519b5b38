namespace HekiActors.Simulation;

/// <summary>A snapshot of a running simulation, reported periodically (about twice a second).</summary>
public sealed record SimulationProgress(
    string Phase,
    int VmsBooted,
    int VmsTotal,
    long Accesses,
    long Violations,
    long AttacksBlocked,
    long AttacksSucceeded,
    TimeSpan Elapsed,
    double Fraction);
