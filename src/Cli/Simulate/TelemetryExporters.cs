using System.Globalization;
using HekiActors.Observability;

namespace HekiActors.Cli.Simulate;

/// <summary>The telemetry exporter names a scenario or <c>--telemetry</c> may list, and how they become <see cref="TelemetryOptions"/>.</summary>
public static class TelemetryExporters
{
    public const string Otlp = "otlp";
    public const string Prometheus = "prometheus";
    public const string Console = "console";

    /// <summary>The scrape port when <c>prometheus</c> is asked for without <c>--metrics-port</c> (OpenTelemetry's usual one).</summary>
    public const int DefaultPrometheusPort = 9464;

    public static readonly IReadOnlyList<string> Known = [Otlp, Prometheus, Console];

    public static bool IsKnown(string name) => Known.Contains(name, StringComparer.Ordinal);

    /// <summary>
    /// The telemetry to run with: the scenario's exporters and <c>--telemetry</c>'s together; <c>--metrics-port</c>
    /// turns the Prometheus endpoint on by itself. Every value is checked here (a bad one is a <see cref="UsageException"/>).
    /// </summary>
    public static TelemetryOptions Options(IReadOnlyList<string> scenarioExporters, string? telemetry, string? metricsPort,
        string? traceRatio, string? fastPathSpanRatio, string? perVmLabels, string? finalScrapeWait = null)
    {
        var names = new HashSet<string>(scenarioExporters, StringComparer.Ordinal);
        if (telemetry is not null)
        {
            foreach (var name in telemetry.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!IsKnown(name))
                {
                    throw new UsageException($"--telemetry {Expectations.Exporter}, got {name}");
                }

                names.Add(name);
            }
        }

        int? port = null;
        if (metricsPort is not null)
        {
            port = int.TryParse(metricsPort, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535
                ? p
                : throw new UsageException($"--metrics-port must be a port number from 1 to 65535, got {Shown(metricsPort)}");
        }
        else if (names.Contains(Prometheus))
        {
            port = DefaultPrometheusPort;
        }

        if (finalScrapeWait is not null && port is null)
            // Accepted silently, it would promise a wait that never happens.
            throw new UsageException("--final-scrape-wait is for a Prometheus endpoint: add --telemetry prometheus or --metrics-port PORT");

        // The SDK would replace a bad OTEL_* value by its default without a word: refused before anything starts.
        OtelEnvironment.Check(anyExporter: names.Count > 0 || port is not null, otlp: names.Contains(Otlp));
        var defaults = TelemetryOptions.Off;
        return new TelemetryOptions(
            Otlp: names.Contains(Otlp),
            PrometheusPort: port,
            Console: names.Contains(Console),
            TraceSampleRatio: Ratio("--trace-ratio", traceRatio, defaults.TraceSampleRatio),
            FastPathSpanRatio: Ratio("--fastpath-span-ratio", fastPathSpanRatio, defaults.FastPathSpanRatio),
            PerVmLabelLimit: perVmLabels is null ? null : PerVmLimit(perVmLabels),
            FinalScrapeWait: finalScrapeWait is null ? null : Wait(finalScrapeWait));
    }

    private static int PerVmLimit(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n
            : throw new UsageException($"--per-vm-labels needs the most VMs to label, a positive integer (the cardinality limit), got {Shown(text)}");

    private static TimeSpan Wait(string text)
    {
        // 0 in any unit (0, 0s, 0ms) turns the wait off.
        return DurationText.TryParse(text, out var wait, allowZero: true)
            ? wait
            : throw new UsageException($"--final-scrape-wait {Expectations.Duration} (or 0), got {Shown(text)}");
    }

    private static double Ratio(string option, string? text, double fallback) =>
        text is null
            ? fallback
            // No sign: "-0" is not a ratio. A tiny non-zero ratio would round to "never" in the sampler: refused.
            : text.Length > 0 && text[0] is not ('-' or '+') && NumberText.TryNumber(text, 0, 1, Expectations.MinRatio, out var r)
                ? r
                : throw new UsageException($"{option} {Expectations.Ratio}, got {Shown(text)}");

    private static string Shown(string text) => text.Length == 0 ? "nothing" : text;
}
