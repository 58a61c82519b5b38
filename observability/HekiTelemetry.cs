using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HekiActors.Observability;

/// <summary>
/// The one <see cref="ActivitySource"/> and the one <see cref="Meter"/> of HekiActors, both named
/// <see cref="Name"/>, and the few process-wide knobs a <see cref="TelemetrySession"/> sets. Static, so
/// instrumenting a decision costs a field load; with no listener attached (telemetry off) an instrument's
/// <c>Enabled</c> is false and <see cref="ActivitySource.HasListeners"/> is false, and callers skip all work.
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

    // Set by TelemetrySession.Start and reset by its Dispose: actors read them per batch or per decision,
    // so they are plain volatile fields rather than something passed through every Props.
    private static volatile bool s_perVmLabels;
    private static volatile int s_fastPathSpanInterval = IntervalOf(TelemetryOptions.Off.FastPathSpanRatio);
    private static long s_fastPathQuantum = TelemetryOptions.DefaultFastPathAccessesPerObservation;

    /// <summary>Accesses per fast-path histogram observation (<see cref="TelemetryOptions.FastPathAccessesPerObservation"/>).</summary>
    public static long FastPathAccessesPerObservation => Volatile.Read(ref s_fastPathQuantum);

    /// <summary>Whether per-VM metrics carry the VM id (<see cref="TelemetryOptions.PerVmLabels"/>).</summary>
    public static bool PerVmLabels => s_perVmLabels;

    /// <summary>One access group in this many gets a fast-path span (0: none); from <see cref="TelemetryOptions.FastPathSpanRatio"/>.</summary>
    public static int FastPathSpanInterval => s_fastPathSpanInterval;

    internal static void Apply(TelemetryOptions options)
    {
        s_perVmLabels = options.PerVmLabels;
        s_fastPathSpanInterval = IntervalOf(options.FastPathSpanRatio);
        Volatile.Write(ref s_fastPathQuantum, Math.Max(1, options.FastPathAccessesPerObservation));
    }

    internal static void Reset() => Apply(TelemetryOptions.Off);

    /// <summary>1/ratio as a whole interval: a countdown per vCPU is cheaper than a random draw per group.</summary>
    internal static int IntervalOf(double ratio) =>
        ratio <= 0 || double.IsNaN(ratio) ? 0 : ratio >= 1 ? 1 : (int)Math.Min(int.MaxValue, Math.Round(1 / ratio));
}
