namespace HekiActors.Memory;

/// <summary>What one call to <see cref="RateLimiter.Check"/> decided.</summary>
/// <param name="Allowed">The message may be printed.</param>
/// <param name="SuppressedToReport">When non-zero, print "&lt;function&gt;: N callbacks suppressed" first.</param>
/// <param name="Timestamp">The limiter's clock when it decided (<see cref="TimeProvider.GetTimestamp"/>), for checkers.</param>
public readonly record struct RateLimitDecision(bool Allowed, long SuppressedToReport, long Timestamp = 0);

/// <summary>
/// Linux ___ratelimit (lib/ratelimit.c) for one call site: a burst of messages per interval, the interval
/// opening at the first message and again at the first call more than one interval later. Not thread-safe:
/// its owner serializes calls (an actor, or a lock where a limit is shared host-wide).
/// </summary>
public sealed class RateLimiter
{
    /// <summary>DEFAULT_RATELIMIT_INTERVAL (5 * HZ).</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    /// <summary>DEFAULT_RATELIMIT_BURST.</summary>
    public const int DefaultBurst = 10;

    private readonly TimeProvider _clock;
    private readonly long _intervalTicks;
    private readonly int _burst;
    private long _begin;
    private bool _started;
    private int _printed;
    private long _missed;

    public RateLimiter(TimeProvider clock, TimeSpan? interval = null, int burst = DefaultBurst)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfNegative(burst);
        var span = interval ?? DefaultInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(span, TimeSpan.Zero, nameof(interval));
        _clock = clock;
        _burst = burst;
        _intervalTicks = (long)(span.TotalSeconds * clock.TimestampFrequency);
    }

    /// <summary>Messages allowed so far, over the limiter's life.</summary>
    public long TotalAllowed { get; private set; }

    /// <summary>Messages suppressed so far, over the limiter's life (hardened exports this as a metric).</summary>
    public long TotalSuppressed { get; private set; }

    /// <summary>Messages suppressed in the current interval and not yet reported.</summary>
    public long PendingSuppressed => _missed;

    /// <summary>Asks to print one message now.</summary>
    public RateLimitDecision Check()
    {
        var now = _clock.GetTimestamp();
        if (!_started)
        {
            _started = true;
            _begin = now;
        }

        long report = 0;
        // time_is_before_jiffies(begin + interval): strictly more than one interval later.
        if (now - _begin > _intervalTicks)
        {
            report = _missed;
            _missed = 0;
            _begin = now;
            _printed = 0;
        }

        if (_burst > _printed)
        {
            _printed++;
            TotalAllowed++;
            return new RateLimitDecision(true, report, now);
        }

        _missed++;
        TotalSuppressed++;
        return new RateLimitDecision(false, report, now);
    }
}
