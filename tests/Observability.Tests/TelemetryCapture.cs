using System.Diagnostics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace HekiActors.Observability.Tests;

/// <summary>A <see cref="TelemetrySession"/> whose metrics and spans go to in-memory lists the test reads.</summary>
internal sealed class TelemetryCapture : IDisposable
{
    private readonly LockedList<MetricSnapshot> _metrics = new();
    private readonly LockedList<Activity> _spans = new();

    public TelemetryCapture(TelemetryOptions? options = null)
    {
        // Every trace and every fast-path group sampled, so the test sees each span without luck.
        Session = TelemetrySession.Start(options ?? new TelemetryOptions(TraceSampleRatio: 1, FastPathSpanRatio: 1, FastPathAccessesPerObservation: 1),
            metrics => metrics.AddInMemoryExporter(_metrics),
            traces => traces.AddInMemoryExporter(_spans));
    }

    public TelemetrySession Session { get; }

    /// <summary>Exports what was recorded so far, then returns the spans ended so far.</summary>
    public IReadOnlyList<Activity> Spans()
    {
        Session.Flush();
        return _spans.Snapshot();
    }

    /// <summary>Exports the metrics now and returns the latest export of each, by name.</summary>
    public IReadOnlyDictionary<string, MetricSnapshot> Metrics()
    {
        Session.Flush();
        var latest = new Dictionary<string, MetricSnapshot>(StringComparer.Ordinal);
        foreach (var metric in _metrics.Snapshot())
            latest[metric.Name] = metric;
        return latest;
    }

    public void Dispose() => Session.Dispose();

    /// <summary>The SDK's span processor exports from whichever actor thread ends a span: a list behind a lock.</summary>
    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];
        private readonly Lock _gate = new();

        public int Count
        {
            get
            {
                lock (_gate)
                    return _items.Count;
            }
        }

        public bool IsReadOnly => false;

        public List<T> Snapshot()
        {
            lock (_gate)
                return [.. _items];
        }

        public void Add(T item)
        {
            lock (_gate)
                _items.Add(item);
        }

        public void Clear()
        {
            lock (_gate)
                _items.Clear();
        }

        public bool Contains(T item)
        {
            lock (_gate)
                return _items.Contains(item);
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            lock (_gate)
                _items.CopyTo(array, arrayIndex);
        }

        public bool Remove(T item)
        {
            lock (_gate)
                return _items.Remove(item);
        }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
