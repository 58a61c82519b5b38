namespace HekiActors.Observability.Live;

/// <summary>How a chart reads its series: as a rate per second, as a running total, or as latency percentiles.</summary>
public enum ChartKind
{
    /// <summary>The series are running totals; the chart plots their increase per second between samples.</summary>
    Rate,

    /// <summary>The series are running totals, plotted as they are.</summary>
    Total,

    /// <summary>The series are latencies in nanoseconds over the window ending at each sample (log scale).</summary>
    Latency,
}

/// <summary>One line of a chart: a series of the timeline and its label.</summary>
/// <param name="Key">The series' key in the <see cref="RunTimeline"/>.</param>
/// <param name="Label">Its label in the legend (a vocabulary label where the vocabulary has one).</param>
public sealed record SeriesSpec(string Key, string Label);

/// <summary>A chart of a live page or an HTML report: a title, the y axis' unit and the series it plots.</summary>
/// <param name="Key">Stable identifier (an HTML id; tests find charts by it).</param>
/// <param name="Unit">The y axis' unit, e.g. "accesses/s" or "ns".</param>
public sealed record ChartSpec(string Key, string Title, string Unit, ChartKind Kind, IReadOnlyList<SeriesSpec> Series);

/// <summary>
/// A run's time series, sampled at a fixed interval into a bounded buffer: <see cref="Capacity"/> points per series
/// however long the run. When the buffer is full every other point is dropped (the newest kept) and
/// <see cref="Epoch"/> advances, so the whole run stays covered at half the resolution; running totals lose nothing
/// by it (a rate between two kept points is the mean rate between them). Thread-safe: one writer, any readers.
/// </summary>
public sealed class RunTimeline
{
    private readonly Lock _gate = new();
    private readonly double[] _seconds;
    private readonly double[][] _values;
    private readonly Dictionary<string, int> _indexOf;
    private int _count;
    private int _epoch;

    /// <param name="seriesKeys">The series, in the order <see cref="Append"/> takes their values.</param>
    /// <param name="capacity">Points kept per series (even, at least 4).</param>
    public RunTimeline(IReadOnlyList<string> seriesKeys, int capacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(seriesKeys);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 4);
        if (capacity % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the capacity must be even");
        Keys = seriesKeys;
        Capacity = capacity;
        _seconds = new double[capacity];
        _values = seriesKeys.Select(_ => new double[capacity]).ToArray();
        _indexOf = seriesKeys.Select((key, i) => (key, i)).ToDictionary(p => p.key, p => p.i);
    }

    public IReadOnlyList<string> Keys { get; }

    public int Capacity { get; }

    /// <summary>How many times the buffer has been thinned; a reader holding points of another epoch must start over.</summary>
    public int Epoch
    {
        get
        {
            lock (_gate)
                return _epoch;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
                return _count;
        }
    }

    /// <summary>Adds a sample: the time since the run started and one value per series, in <see cref="Keys"/> order.</summary>
    public void Append(double seconds, ReadOnlySpan<double> values)
    {
        lock (_gate)
            AppendLocked(seconds, values);
    }

    /// <summary>Replaces the last sample (the run's final figures replace its last live ones when they arrive at once).</summary>
    public void ReplaceLast(double seconds, ReadOnlySpan<double> values)
    {
        lock (_gate)
        {
            if (_count > 0)
                _count--;
            AppendLocked(seconds, values);
        }
    }

    private void AppendLocked(double seconds, ReadOnlySpan<double> values)
    {
        if (values.Length != _values.Length)
            throw new ArgumentException($"expected {_values.Length} values, got {values.Length}", nameof(values));
        if (_count == Capacity)
            Thin();
        _seconds[_count] = seconds;
        for (var s = 0; s < _values.Length; s++)
            _values[s][_count] = values[s];
        _count++;
    }

    /// <summary>The last value of a series (0 before the first sample).</summary>
    public double Last(string key)
    {
        lock (_gate)
            return _count == 0 ? 0 : _values[_indexOf[key]][_count - 1];
    }

    /// <summary>
    /// The points a reader does not have yet: from index <paramref name="since"/> when it holds points of the current
    /// epoch, else all of them. The cost is the number of points returned, never the run's length.
    /// </summary>
    public TimelineSlice Read(int since, int epoch)
    {
        lock (_gate)
        {
            var from = epoch == _epoch ? Math.Clamp(since, 0, _count) : 0;
            var n = _count - from;
            var seconds = _seconds.AsSpan(from, n).ToArray();
            var values = _values.Select(v => v.AsSpan(from, n).ToArray()).ToArray();
            return new TimelineSlice(_epoch, from, _count, seconds, values);
        }
    }

    private void Thin()
    {
        // Keep the newest point and every second one before it.
        var kept = 0;
        for (var i = (_count - 1) % 2; i < _count; i += 2)
        {
            _seconds[kept] = _seconds[i];
            foreach (var series in _values)
                series[kept] = series[i];
            kept++;
        }

        _count = kept;
        _epoch++;
    }
}

/// <summary>Points of a <see cref="RunTimeline"/> from index <see cref="From"/> to <see cref="Count"/> (exclusive).</summary>
/// <param name="Values">One array per series, in the timeline's key order.</param>
public sealed record TimelineSlice(int Epoch, int From, int Count, double[] Seconds, double[][] Values);
