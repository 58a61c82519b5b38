using HekiActors.Memory;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// Invariant 5, written independently of <see cref="RateLimiter"/>: per call site (host-wide under heki-v2, per VM
/// and site under hardened, heki-semantics.md §8) an interval opens at the first decision and again at the first
/// one strictly more than 5 s after it; at most 10 warnings may be printed per interval. Time is the clock the
/// limiter read (so an injected skew is judged as the limiter saw it: a clock that jumps back must not reopen
/// an interval early).
/// </summary>
internal sealed class WarningLimitCheck(HekiProfile profile)
{
    private const int Burst = 10;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly Dictionary<(string Vm, WarningSite Site), Window> _windows = new();

    /// <summary>
    /// A hardened VM's limiters were dropped by the supervisor (its VM was created or destroyed): its limits start
    /// over there, at that point among the decisions. (Not when the oracle sees the create acknowledged: decisions of
    /// the previous incarnation may still be queued at the supervisor then.)
    /// </summary>
    public void Reset(string vmId)
    {
        if (profile == HekiProfile.HekiV2)
            return;
        foreach (var site in Enum.GetValues<WarningSite>())
            _windows.Remove((vmId, site));
    }

    /// <summary>Null when the decision is within the limit, else what went wrong.</summary>
    public string? Decided(string vmId, WarningSite site, bool printed, long timestamp, long frequency)
    {
        if (!site.IsRateLimited(profile))
            return null;
        var key = (profile == HekiProfile.HekiV2 ? "" : vmId, site);
        if (!_windows.TryGetValue(key, out var window))
        {
            window = new Window { Begin = timestamp };
            _windows.Add(key, window);
        }

        if (timestamp - window.Begin > (long)(Interval.TotalSeconds * frequency))
        {
            window.Begin = timestamp;
            window.Printed = 0;
        }

        if (!printed)
            return null;
        window.Printed++;
        return window.Printed > Burst
            ? $"{window.Printed} {site.Function()} warnings printed in one {Interval.TotalSeconds:0} s interval{(key.Item1.Length > 0 ? $" of VM '{vmId}'" : " (host-wide)")}; the limit is {Burst}"
            : null;
    }

    private sealed class Window
    {
        public long Begin;
        public int Printed;
    }
}
