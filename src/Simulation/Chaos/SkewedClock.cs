namespace HekiActors.Simulation.Chaos;

/// <summary>
/// The clock the warning rate limiters read, with injected skew: the system's clock plus an offset that chaos moves
/// forward and back. Thread-safe.
/// </summary>
public sealed class SkewedClock(TimeProvider inner) : TimeProvider
{
    private long _offsetTicks;

    public SkewedClock() : this(System)
    {
    }

    /// <summary>The current offset in <see cref="TimestampFrequency"/> ticks.</summary>
    public long OffsetTicks => Interlocked.Read(ref _offsetTicks);

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override long GetTimestamp() => inner.GetTimestamp() + Interlocked.Read(ref _offsetTicks);

    public override DateTimeOffset GetUtcNow() =>
        inner.GetUtcNow() + TimeSpan.FromSeconds((double)Interlocked.Read(ref _offsetTicks) / TimestampFrequency);

    /// <summary>Moves the clock by <paramref name="skew"/> (negative: back).</summary>
    public void Jump(TimeSpan skew) => Interlocked.Add(ref _offsetTicks, (long)(skew.TotalSeconds * TimestampFrequency));
}
