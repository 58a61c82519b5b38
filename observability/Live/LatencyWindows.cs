using System.Diagnostics.Metrics;

namespace HekiActors.Observability.Live;

/// <summary>
/// Percentiles of the three latency histograms of the vocabulary (fast path, slow path, hypercall) over successive
/// windows, for a live page: a <see cref="MeterListener"/> on exactly those instruments of the <c>HekiActors</c>
/// meter, so it sees the measurements the metrics get (the same events, already sampled where they are made: one
/// fast-path record per 16,384 accesses, one per miss, one per hypercall) and nothing else is turned on. Values go
/// into log-linear buckets (16 per power of two: about 4% wide) with an atomic add each.
/// </summary>
/// <remarks>
/// A listener is process-wide: it sees every simulation in the process. <see cref="Profile"/> keeps only one profile's
/// measurements (the CLI runs one profile at a time). Dispose it to turn the instruments back off.
/// </remarks>
public sealed class LatencyWindows : IDisposable
{
    private const int SubBuckets = 16;
    private const int Powers = 48; // 1 ns .. 2^48 ns (78 hours)
    private const int Buckets = Powers * SubBuckets;

    private readonly MeterListener _listener = new();
    private readonly long[][] _counts = [new long[Buckets], new long[Buckets], new long[Buckets]];
    private readonly long[][] _seen = [new long[Buckets], new long[Buckets], new long[Buckets]];
    private volatile string? _profile;

    public LatencyWindows()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == HekiTelemetry.Meter && IndexOf(instrument) >= 0)
                listener.EnableMeasurementEvents(instrument, IndexOf(instrument));
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The vocabulary's latencies, in the order of <see cref="Take"/>'s result.</summary>
    public static IReadOnlyList<HekiLatency> Latencies => HekiVocabulary.Latencies;

    /// <summary>The profile whose measurements count (its tag value, e.g. "hardened"); null for every profile.</summary>
    public string? Profile
    {
        get => _profile;
        set => _profile = value;
    }

    /// <summary>
    /// The window since the previous call, per latency (in <see cref="Latencies"/> order): how many values, and their
    /// p50/p90/p99 in nanoseconds (each a bucket's middle; 0 when the window is empty).
    /// </summary>
    public LatencyWindow[] Take()
    {
        var result = new LatencyWindow[_counts.Length];
        var window = new long[Buckets];
        for (var h = 0; h < _counts.Length; h++)
        {
            long total = 0;
            for (var b = 0; b < Buckets; b++)
            {
                var now = Volatile.Read(ref _counts[h][b]);
                window[b] = now - _seen[h][b];
                _seen[h][b] = now;
                total += window[b];
            }

            result[h] = total == 0
                ? new LatencyWindow(0, 0, 0, 0)
                : new LatencyWindow(total, ValueAt(window, total, 0.50), ValueAt(window, total, 0.90), ValueAt(window, total, 0.99));
        }

        return result;
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The bucket of a value in nanoseconds (values below 1 ns go to the first).</summary>
    internal static int BucketOf(double nanoseconds)
    {
        if (!(nanoseconds >= 1))
            return 0;
        var power = Math.Min(Powers - 1, (int)Math.Floor(Math.Log2(nanoseconds)));
        var low = Math.Pow(2, power);
        var sub = Math.Min(SubBuckets - 1, (int)((nanoseconds - low) / low * SubBuckets));
        return power * SubBuckets + sub;
    }

    /// <summary>The middle of a bucket, in nanoseconds.</summary>
    internal static double MiddleOf(int bucket)
    {
        var power = bucket / SubBuckets;
        var low = Math.Pow(2, power);
        return low + (bucket % SubBuckets + 0.5) * low / SubBuckets;
    }

    private static int IndexOf(Instrument instrument)
    {
        for (var i = 0; i < HekiVocabulary.Latencies.Count; i++)
        {
            if (instrument.Name == HekiVocabulary.Latencies[i].Metric)
                return i;
        }

        return -1;
    }

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (state is not int index)
            return;
        if (_profile is { } wanted && !HasProfile(tags, wanted))
            return;
        var nanoseconds = HekiVocabulary.Latencies[index].Unit == "s" ? value * 1e9 : value;
        Interlocked.Increment(ref _counts[index][BucketOf(nanoseconds)]);
    }

    private static bool HasProfile(ReadOnlySpan<KeyValuePair<string, object?>> tags, string profile)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == HekiTags.Profile)
                return tag.Value is string value && (ReferenceEquals(value, profile) || value == profile);
        }

        return false;
    }

    private static double ValueAt(long[] window, long total, double quantile)
    {
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var b = 0; b < window.Length; b++)
        {
            seen += window[b];
            if (seen >= rank)
                return MiddleOf(b);
        }

        return MiddleOf(window.Length - 1);
    }
}

/// <summary>One latency over one window: how many values, and their percentiles in nanoseconds.</summary>
public readonly record struct LatencyWindow(long Count, double P50, double P90, double P99);
