namespace HekiActors.Observability;

/// <summary>
/// Makes the fast-path histogram per access without one record per access: each timed group adds the accesses it
/// covered to a credit, and the group records its time per access once for every
/// <see cref="HekiMetrics.FastPathAccessesPerObservation"/> accesses of credit (a systematic sample in which a group
/// is chosen in proportion to its accesses). One per vCPU; not thread-safe.
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
        if (!_started)
        {
            // The first group observes at once, so a short run (a test, one probe) still has a distribution.
            _started = true;
            _credit = HekiMetrics.FastPathAccessesPerObservation - 1;
        }

        _credit += accesses;
        if (_credit < HekiMetrics.FastPathAccessesPerObservation)
            return 0;
        var n = _credit / HekiMetrics.FastPathAccessesPerObservation;
        _credit -= n * HekiMetrics.FastPathAccessesPerObservation;
        return (int)Math.Min(n, int.MaxValue);
    }
}
