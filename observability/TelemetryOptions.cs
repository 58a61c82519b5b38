namespace HekiActors.Observability;

/// <summary>
/// Which telemetry to export. All off by default, and off costs nothing: no SDK is started, so every
/// instrument call returns at once.
/// </summary>
/// <param name="Otlp">Export traces and metrics by OTLP, configured by the standard OTEL_EXPORTER_OTLP_* variables.</param>
/// <param name="PrometheusPort">Serve a Prometheus scrape endpoint on 127.0.0.1 at this port (/metrics).</param>
/// <param name="Console">Print metrics and spans on the console, for a quick look.</param>
/// <param name="TraceSampleRatio">
/// Share of traces sampled (parent-based ratio; fast-path spans use <paramref name="FastPathSpanRatio"/>). One in ten by
/// default: a simulation makes thousands of hypercalls a second, and every sampled one is about seven spans.
/// </param>
/// <param name="FastPathSpanRatio">Share of fast-path access groups that get a span (and so can back an exemplar).</param>
/// <param name="PerVmLabels">Add the VM id to per-VM metrics (high cardinality; opt in).</param>
public sealed record TelemetryOptions(
    bool Otlp = false,
    int? PrometheusPort = null,
    bool Console = false,
    double TraceSampleRatio = 0.1,
    double FastPathSpanRatio = 0.001,
    bool PerVmLabels = false,
    string ServiceName = "heki")
{
    public static readonly TelemetryOptions Off = new();

    public bool AnyExporter => Otlp || PrometheusPort is not null || Console;
}
