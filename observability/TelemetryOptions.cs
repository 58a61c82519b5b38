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
/// default: a simulation makes thousands of hypercalls a second, and every sampled one is about eight spans.
/// </param>
/// <param name="FastPathSpanRatio">Share of fast-path access groups that get a span (and so can back an exemplar).</param>
/// <param name="PerVmLabelLimit">
/// Label per-VM metrics with the VM id, for at most this many VMs (null: no VM label). A cardinality limit the user
/// sets explicitly: each metric stream may hold <see cref="SeriesPerVm"/> series per VM, and a run with more VMs is
/// refused before it starts, so no series ever overflows silently.
/// </param>
/// <param name="FastPathAccessesPerObservation">Accesses per fast-path histogram observation (tests use 1: every group).</param>
/// <param name="FinalScrapeWait">
/// At the end of a run with a Prometheus endpoint: how long to wait for a scrape after the final counts (0: none).
/// </param>
public sealed record TelemetryOptions(
    bool Otlp = false,
    int? PrometheusPort = null,
    bool Console = false,
    double TraceSampleRatio = 0.1,
    double FastPathSpanRatio = 0.001,
    int? PerVmLabelLimit = null,
    string ServiceName = "heki",
    TimeSpan? FinalScrapeWait = null,
    long FastPathAccessesPerObservation = TelemetryOptions.DefaultFastPathAccessesPerObservation)
{
    /// <summary>
    /// Accesses one fast-path histogram observation stands for. The vCPU times groups of accesses (never one access);
    /// to make the histogram per access it records a group's time per access once for every this many accesses the
    /// groups cover (a systematic sample weighted by accesses, see <see cref="FastPathSampler"/>), so its quantiles
    /// are the report's and its cost is one record per 16,384 accesses. Its <c>_count</c> is accesses / this.
    /// </summary>
    public const long DefaultFastPathAccessesPerObservation = 16_384;

    public static readonly TelemetryOptions Off = new();

    /// <summary>The default wait for Prometheus' scrape after a run: covers scrape intervals up to 15 s.</summary>
    public static readonly TimeSpan DefaultFinalScrapeWait = TimeSpan.FromSeconds(15);

    /// <summary>Series one VM may add to one metric stream (kinds × outcomes × origins and the like, with room to spare).</summary>
    public const int SeriesPerVm = 64;

    public bool AnyExporter => Otlp || PrometheusPort is not null || Console;

    /// <summary>Whether per-VM metrics carry the VM id.</summary>
    public bool PerVmLabels => PerVmLabelLimit is not null;

    /// <summary>The wait for the final scrape, defaulted.</summary>
    public TimeSpan FinalScrapeWaitOrDefault => FinalScrapeWait ?? DefaultFinalScrapeWait;

    /// <summary>
    /// Span export queue for the sampling ratio: what a default-size run (300 VMs) ends between two exports at that
    /// ratio, with room to spare (measured: docs/benchmarks.md), so nothing is dropped while the exporter keeps up.
    /// </summary>
    public int SpanQueueSize => TraceSampleRatio switch
    {
        <= 0.01 => 8_192,
        <= 0.1 => 32_768,
        _ => 262_144,
    };
}
