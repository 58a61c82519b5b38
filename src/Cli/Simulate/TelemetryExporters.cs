namespace HekiActors.Cli.Simulate;

/// <summary>The telemetry exporter names a scenario may list (wired by the observability work; stored until then).</summary>
public static class TelemetryExporters
{
    public const string Otlp = "otlp";
    public const string Prometheus = "prometheus";
    public const string Console = "console";

    public static readonly IReadOnlyList<string> Known = [Otlp, Prometheus, Console];

    public static bool IsKnown(string name) => Known.Contains(name, StringComparer.Ordinal);
}
