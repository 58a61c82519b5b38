using System.Globalization;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// The standard OTEL_* variables the OpenTelemetry SDK reads for heki's exporters, checked before anything starts.
/// The SDK replaces a value it cannot use by its default and says so only in its own diagnostics: a mistyped
/// endpoint (<c>notaurl</c>, <c>http://127.0.0.1:99999</c>) or protocol (<c>http</c>) exported to
/// localhost:4317/4318 instead, which the run's report showed at best as an export failure. A bad value is a
/// <see cref="UsageException"/> naming the variable and the value (exit 2). A variable set but empty is refused
/// too: the user meant something by setting it (the OpenTelemetry spec reads it as unset; unset it to mean that).
/// </summary>
public static class OtelEnvironment
{
    /// <summary>The signals heki exports by OTLP: the general variable and each signal's own.</summary>
    private static readonly string[] Signals = ["", "TRACES_", "METRICS_"];

    /// <summary>The protocols the .NET OTLP exporter implements (no http/json).</summary>
    private static readonly string[] Protocols = ["grpc", "http/protobuf"];

    /// <summary>
    /// Checks the variables: the resource's (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) whenever an exporter is on,
    /// the OTLP exporter's (endpoint, protocol, timeout, headers, compression, certificates, temporality, metric
    /// export interval and timeout) when <paramref name="otlp"/>.
    /// </summary>
    /// <param name="anyExporter">Some exporter (OTLP, Prometheus, console) is on: the SDK starts and reads the resource's variables.</param>
    /// <param name="otlp">The OTLP exporter is on.</param>
    /// <param name="read">Reads one variable (null when unset); <see cref="Environment.GetEnvironmentVariable(string)"/> by default.</param>
    /// <exception cref="UsageException">A variable holds a value the SDK would not use.</exception>
    public static void Check(bool anyExporter, bool otlp, Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        if (!anyExporter)
            return;
        Check(read, "OTEL_SERVICE_NAME", "a service name", v => v.Trim().Length > 0);
        Check(read, "OTEL_RESOURCE_ATTRIBUTES", "comma-separated key=value pairs with non-empty keys", IsKeyValueList);
        // "true" would turn off the very telemetry the command line asks for.
        Check(read, "OTEL_SDK_DISABLED", "false while --telemetry or --metrics-port asks for telemetry",
            v => v.Equals("false", StringComparison.OrdinalIgnoreCase));
        if (!otlp)
            return;
        foreach (var signal in Signals)
        {
            var prefix = "OTEL_EXPORTER_OTLP_" + signal;
            Check(read, prefix + "ENDPOINT", "an absolute http:// or https:// URL with a host and a port from 1 to 65535 if any " +
                "(e.g. http://127.0.0.1:4317)", IsEndpoint);
            Check(read, prefix + "PROTOCOL", $"one of {string.Join(", ", Protocols)}", v => Protocols.Contains(v, StringComparer.Ordinal));
            Check(read, prefix + "TIMEOUT", "a whole number of milliseconds from 1 to 2147483647", IsMilliseconds);
            Check(read, prefix + "HEADERS", "comma-separated key=value pairs with non-empty keys", IsKeyValueList);
            Check(read, prefix + "COMPRESSION", "one of gzip, none", v => v is "gzip" or "none");
        }

        foreach (var file in new[] { "OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY" })
            Check(read, file, "the path of an existing file", File.Exists);
        Check(read, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "one of cumulative, delta, lowmemory",
            v => v.ToLowerInvariant() is "cumulative" or "delta" or "lowmemory");
        Check(read, "OTEL_METRIC_EXPORT_INTERVAL", "a whole number of milliseconds from 1 to 2147483647", IsMilliseconds);
        Check(read, "OTEL_METRIC_EXPORT_TIMEOUT", "a whole number of milliseconds from 1 to 2147483647", IsMilliseconds);
    }

    private static void Check(Func<string, string?> read, string name, string expected, Func<string, bool> valid)
    {
        if (read(name) is not { } value)
            return;
        if (value.Length == 0)
            throw new UsageException($"{name} is set but empty: it must be {expected} (unset it for the default)");
        if (!valid(value))
            throw new UsageException($"{name} must be {expected}, got {Shown(value)}");
    }

    private static bool IsEndpoint(string value) =>
        // Uri refuses a port above 65535 ("Invalid port"); port 0 and white space it would accept.
        value.Trim().Length == value.Length
        && Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && uri.Host.Length > 0
        && uri.Port is >= 1 and <= 65535;

    private static bool IsMilliseconds(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms >= 1;

    private static bool IsKeyValueList(string value) =>
        value.Split(',').All(pair => pair.IndexOf('=', StringComparison.Ordinal) is > 0 and var at && pair[..at].Trim().Length > 0);

    /// <summary>The value quoted, control characters escaped, so the message stays one line.</summary>
    private static string Shown(string value) => $"'{ScenarioNode.Excerpt(value, ScenarioNode.ParserMessageLength)}'";
}
