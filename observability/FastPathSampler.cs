namespace HekiActors.Observability;

/// <summary>
/// Makes the fast-path histogram per access without one record per access: each timed group adds the accesses it
/// covered to a credit, and the group records its time per access once for every
/// <see cref="TelemetryOptions.FastPathAccessesPerObservation"/> accesses of credit (a systematic sample with a random
/// phase, in which a group is chosen in proportion to its accesses). One per vCPU; not thread-safe.
/// </summary>
public struct FastPathSampler
{
    private long _credit;
    private bool _started;

    /// <summary>How many observations a group of <paramref name="accesses"/> accesses records (usually 0, sometimes 1).</summary>
    public int Observations(long accesses)
    {
        if (accesses <= 0)
            return 0;
        var quantum = HekiTelemetry.FastPathAccessesPerObservation;
        if (!_started)
        {
            // A random phase: starting every vCPU at the same point would over-sample first (cold) groups.
            _started = true;
            _credit = quantum <= 1 ? 0 : Random.Shared.NextInt64(quantum);
        }

        _credit += accesses;
        if (_credit < quantum)
            return 0;
        var n = _credit / quantum;
        _credit -= n * quantum;
        return (int)Math.Min(n, int.MaxValue);
    }
}
