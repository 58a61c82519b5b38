using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HekiActors.Observability;

/// <summary>
/// The OpenTelemetry SDK for one process run: a meter provider and a tracer provider listening to
/// <see cref="HekiTelemetry"/>, with the exporters the options ask for. Disposing flushes and stops them.
/// With no exporter nothing is started at all.
/// </summary>
public sealed class TelemetrySession : IDisposable
{
    /// <summary>How often the console exporter prints the metrics.</summary>
    public const int ConsoleIntervalMilliseconds = 5000;

    private readonly MeterProvider? _meters;
    private readonly TracerProvider? _tracers;

    private TelemetrySession(TelemetryOptions options, MeterProvider? meters, TracerProvider? tracers)
    {
        Options = options;
        _meters = meters;
        _tracers = tracers;
    }

    public TelemetryOptions Options { get; }

    /// <summary>True when an SDK is listening (some exporter is on).</summary>
    public bool IsActive => _meters is not null;

    /// <summary>Starts the SDK for the exporters in <paramref name="options"/>.</summary>
    /// <param name="configureMetrics">Extra metric readers (tests add an in-memory exporter).</param>
    /// <param name="configureTraces">Extra span processors (tests add an in-memory exporter).</param>
    public static TelemetrySession Start(TelemetryOptions options,
        Action<MeterProviderBuilder>? configureMetrics = null, Action<TracerProviderBuilder>? configureTraces = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.AnyExporter && configureMetrics is null && configureTraces is null)
            return new TelemetrySession(options, null, null);
        HekiTelemetry.Apply(options);

        var resource = ResourceBuilder.CreateDefault();
        // OTEL_SERVICE_NAME wins when set (the default resource detector reads it); otherwise our name.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
            resource.AddService(options.ServiceName, serviceVersion: HekiTelemetry.Version);

        var meters = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(HekiTelemetry.Name)
            // Exemplars point from histogram buckets at sampled traces.
            .SetExemplarFilter(ExemplarFilterType.TraceBased);
        if (options.Otlp)
            meters.AddOtlpExporter();
        if (options.PrometheusPort is { } port)
            meters.AddPrometheusHttpListener(listener =>
            {
                listener.Host = "127.0.0.1";
                listener.Port = port;
            });
        if (options.Console)
            meters.AddConsoleExporter((_, reader) =>
                // The default minute is too long for a quick look at a run of a few seconds.
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = ConsoleIntervalMilliseconds);
        configureMetrics?.Invoke(meters);

        var tracers = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(HekiTelemetry.Name)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(Math.Clamp(options.TraceSampleRatio, 0, 1))));
        if (options.Otlp)
            tracers.AddOtlpExporter();
        if (options.Console)
            tracers.AddConsoleExporter();
        configureTraces?.Invoke(tracers);

        return new TelemetrySession(options, meters.Build(), tracers.Build());
    }

    /// <summary>Pushes out everything recorded so far (tests and the end of a run).</summary>
    public void Flush()
    {
        _tracers?.ForceFlush();
        _meters?.ForceFlush();
    }

    public void Dispose()
    {
        _tracers?.Dispose();
        _meters?.Dispose();
        if (IsActive)
            HekiTelemetry.Reset();
    }
}
