using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HekiActors.Observability;

/// <summary>
/// The OpenTelemetry SDK for one process run: meter providers and a tracer provider listening to
/// <see cref="HekiTelemetry"/>, with the exporters the options ask for. <see cref="EndRun"/> pushes the final values
/// to every exporter, <see cref="WaitForFinalScrapeAsync"/> keeps the Prometheus endpoint up until it has been
/// scraped once more; disposing stops everything. With no exporter nothing is started at all.
/// </summary>
public sealed class TelemetrySession : IDisposable
{
    /// <summary>How often the console exporter prints the metrics.</summary>
    public const int ConsoleIntervalMilliseconds = 5000;

    /// <summary>The meter only the Prometheus endpoint's provider listens to: its callback runs once per scrape.</summary>
    private const string ScrapeMeterName = "HekiActors.Prometheus";

    private readonly MeterProvider? _meters;
    private readonly MeterProvider? _prometheus;
    private readonly TracerProvider? _tracers;
    private readonly TelemetryLosses.SdkEvents? _events;
    private readonly Meter? _scrapeMeter;
    private readonly Lock _gate = new();
    private TaskCompletionSource? _scrapedAfterEnd;
    private bool _ended;

    private TelemetrySession(TelemetryOptions options, MeterProvider? meters, MeterProvider? prometheus, TracerProvider? tracers,
        TelemetryLosses.SdkEvents? events, Meter? scrapeMeter)
    {
        Options = options;
        _meters = meters;
        _prometheus = prometheus;
        _tracers = tracers;
        _events = events;
        _scrapeMeter = scrapeMeter;
    }

    public TelemetryOptions Options { get; }

    /// <summary>True when an SDK is listening (some exporter is on).</summary>
    public bool IsActive => _meters is not null || _prometheus is not null;

    /// <summary>Prometheus collections (scrapes) served so far.</summary>
    public long Scrapes { get; private set; }

    /// <summary>Starts the SDK for the exporters in <paramref name="options"/>.</summary>
    /// <param name="configureMetrics">Extra metric readers (tests add an in-memory exporter).</param>
    /// <param name="configureTraces">Extra span processors (tests add an in-memory exporter).</param>
    public static TelemetrySession Start(TelemetryOptions options,
        Action<MeterProviderBuilder>? configureMetrics = null, Action<TracerProviderBuilder>? configureTraces = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.AnyExporter && configureMetrics is null && configureTraces is null)
            return new TelemetrySession(options, null, null, null, null, null);
        HekiTelemetry.Apply(options);
        TelemetryLosses.Reset();
        var events = new TelemetryLosses.SdkEvents();

        MeterProvider? meters = null;
        if (options.Otlp || options.Console || configureMetrics is not null)
        {
            var builder = MetricsFor(options);
            if (options.Otlp)
                builder.AddOtlpExporter();
            if (options.Console)
                builder.AddConsoleExporter((_, reader) =>
                    // The default minute is too long for a quick look at a run of a few seconds.
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = ConsoleIntervalMilliseconds);
            configureMetrics?.Invoke(builder);
            meters = builder.Build();
        }

        // The Prometheus endpoint has a provider of its own, so a collection of its private meter is a scrape and
        // never an OTLP export (the end of a run waits for one).
        MeterProvider? prometheus = null;
        Meter? scrapeMeter = null;
        TelemetrySession? session = null;
        if (options.PrometheusPort is { } port)
        {
            scrapeMeter = new Meter(ScrapeMeterName, HekiTelemetry.Version);
            prometheus = MetricsFor(options)
                .AddMeter(ScrapeMeterName)
                .AddPrometheusHttpListener(listener =>
                {
                    listener.Host = "127.0.0.1";
                    listener.Port = port;
                })
                .Build();
        }

        var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(Resource(options))
            .AddSource(HekiTelemetry.Name)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(Math.Clamp(options.TraceSampleRatio, 0, 1))))
            .AddProcessor(new TelemetryLosses.SpanCounter());
        if (options.Otlp)
            tracing.AddOtlpExporter(otlp => otlp.BatchExportProcessorOptions = new BatchExportProcessorOptions<Activity>
            {
                // Sized for the sampling (TelemetryOptions.SpanQueueSize) and exported often in large batches, so a
                // default-size run drops nothing even at --trace-ratio 1; whatever is dropped anyway is counted.
                MaxQueueSize = options.SpanQueueSize,
                MaxExportBatchSize = Math.Min(options.SpanQueueSize, 8_192),
                ScheduledDelayMilliseconds = 250,
            });
        if (options.Console)
            tracing.AddConsoleExporter();
        configureTraces?.Invoke(tracing);

        session = new TelemetrySession(options, meters, prometheus, tracing.Build(), events, scrapeMeter);
        scrapeMeter?.CreateObservableCounter("heki.telemetry.scrapes", session.Scraped, "{scrape}",
            "Prometheus scrapes this process has served.");
        HekiMetrics.CreateSeries();
        return session;
    }

    private static MeterProviderBuilder MetricsFor(TelemetryOptions options)
    {
        var builder = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(Resource(options))
            .AddMeter(HekiTelemetry.Name)
            // Exemplars point from histogram buckets and the violation counter at sampled traces.
            .SetExemplarFilter(ExemplarFilterType.TraceBased);
        if (options.PerVmLabelLimit is { } vms)
        {
            // Per-VM labels only behind the limit the user set: room for every VM's series, so nothing overflows
            // into the SDK's otel_metric_overflow series (the CLI refuses a run with more VMs than the limit).
            var limit = (int)Math.Min(int.MaxValue, 2_000L + (long)vms * TelemetryOptions.SeriesPerVm);
            builder.AddView("heki.*", new MetricStreamConfiguration { CardinalityLimit = limit });
        }

        return builder;
    }

    /// <summary>
    /// The resource: our service name, version and a fresh instance id first, then the standard OTEL_RESOURCE_ATTRIBUTES
    /// and OTEL_SERVICE_NAME on top (the OpenTelemetry spec: the environment wins, and keeps what it does not set).
    /// </summary>
    internal static ResourceBuilder Resource(TelemetryOptions options) => ResourceBuilder.CreateEmpty()
        .AddService(options.ServiceName, serviceVersion: HekiTelemetry.Version, autoGenerateServiceInstanceId: true)
        .AddTelemetrySdk()
        .AddEnvironmentVariableDetector();

    private long Scraped()
    {
        lock (_gate)
        {
            Scrapes++;
            if (_ended)
                _scrapedAfterEnd?.TrySetResult();
            return Scrapes;
        }
    }

    /// <summary>Pushes out everything recorded so far (tests).</summary>
    public void Flush()
    {
        _tracers?.ForceFlush();
        _meters?.ForceFlush();
    }

    /// <summary>
    /// The run is over: every span still queued is exported and the span pipeline shut down (the SDK reports drops
    /// then, so <see cref="TelemetryLosses.SpansDropped"/> is final), the final metrics are pushed to OTLP and the
    /// console; from now on a Prometheus scrape reads the final counts.
    /// </summary>
    public void EndRun()
    {
        _tracers?.ForceFlush();
        _tracers?.Shutdown();
        _meters?.ForceFlush();
        lock (_gate)
        {
            _ended = true;
            _scrapedAfterEnd ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>
    /// Keeps the Prometheus endpoint up until it has been scraped after <see cref="EndRun"/> (so Prometheus sees the
    /// final counts), at most <paramref name="limit"/>. True when it was scraped (or there is no endpoint).
    /// </summary>
    public async Task<bool> WaitForFinalScrapeAsync(TimeSpan limit, CancellationToken cancellationToken = default)
    {
        if (_prometheus is null)
            return true;
        Task scraped;
        lock (_gate)
        {
            if (!_ended)
                throw new InvalidOperationException("EndRun first: a scrape before it does not hold the final counts");
            scraped = _scrapedAfterEnd!.Task;
        }

        if (limit <= TimeSpan.Zero)
            return scraped.IsCompleted;
        try
        {
            await scraped.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return false;
        }

        // The collection ran; give the endpoint a moment to send the response it belongs to.
        await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    public void Dispose()
    {
        _tracers?.Dispose();
        _meters?.Dispose();
        _prometheus?.Dispose();
        _scrapeMeter?.Dispose();
        _events?.Dispose();
        if (IsActive || _tracers is not null)
            HekiTelemetry.Reset();
    }
}
