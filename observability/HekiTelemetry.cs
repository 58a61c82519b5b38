using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HekiActors.Observability;

/// <summary>
/// The one <see cref="ActivitySource"/> and the one <see cref="Meter"/> of HekiActors, both named
/// <see cref="Name"/>. Static, so instrumenting a decision costs a field load; with no listener attached
/// (telemetry off) an instrument call returns at once.
/// </summary>
public static class HekiTelemetry
{
    /// <summary>The name of the ActivitySource and of the Meter ("HekiActors").</summary>
    public const string Name = "HekiActors";

    /// <summary>The instrumentation version reported with every span and metric.</summary>
    public static readonly string Version = typeof(HekiTelemetry).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Spans: hypercalls and their steps, slow-path faults, violations, supervisor decisions.</summary>
    public static readonly ActivitySource Source = new(Name, Version);

    /// <summary>Every HekiActors instrument hangs off this meter (see <see cref="HekiMetrics"/>).</summary>
    public static readonly Meter Meter = new(Name, Version);
}
