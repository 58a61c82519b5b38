using HekiActors.Cli.Simulate;

namespace HekiActors.Cli.Tests;

/// <summary>
/// QA 7 M4: a bad OTEL_* value the SDK would silently replace by its default (a mistyped endpoint exported to
/// localhost:4317) is refused before anything starts, naming the variable and the value.
/// </summary>
public sealed class OtelEnvironmentTests
{
    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://[::1")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "notaurl")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:99999")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:0")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://127.0.0.1:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", " http://127.0.0.1:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "127.0.0.1:4318")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc ")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "thrift")]
    [InlineData("OTEL_EXPORTER_OTLP_TIMEOUT", "5s")]
    [InlineData("OTEL_EXPORTER_OTLP_TIMEOUT", "0")]
    [InlineData("OTEL_EXPORTER_OTLP_TIMEOUT", "-1")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "99999999999")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "authorization")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "=value")]
    [InlineData("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]
    [InlineData("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "sometimes")]
    [InlineData("OTEL_METRIC_EXPORT_INTERVAL", "1m")]
    [InlineData("OTEL_METRIC_EXPORT_TIMEOUT", "")]
    [InlineData("OTEL_SERVICE_NAME", " ")]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "team")]
    [InlineData("OTEL_SDK_DISABLED", "true")]
    [InlineData("OTEL_SDK_DISABLED", "yes")]
    public void A_bad_otlp_variable_is_refused_naming_the_variable_and_the_value(string name, string value)
    {
        var refused = Assert.Throws<UsageException>(() => OtelEnvironment.Check(anyExporter: true, otlp: true, Reading((name, value))));

        Assert.StartsWith(name + " ", refused.Message, StringComparison.Ordinal);
        if (value.Length > 0)
            Assert.Contains($"'{value}'", refused.Message, StringComparison.Ordinal);
        else
            Assert.Contains("set but empty", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void Good_values_and_unset_variables_are_accepted()
    {
        OtelEnvironment.Check(anyExporter: true, otlp: true, Reading(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://collector.example:4318/v1/traces"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://[::1]:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc,x-tenant=lab"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
            ("OTEL_SERVICE_NAME", "heki-lab"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=kvm,site=lab"),
            ("OTEL_SDK_DISABLED", "false")));
        OtelEnvironment.Check(anyExporter: true, otlp: true, Reading());
    }

    [Fact]
    public void Otlp_variables_matter_only_with_the_otlp_exporter_and_resource_variables_with_any_exporter()
    {
        OtelEnvironment.Check(anyExporter: true, otlp: false, Reading(("OTEL_EXPORTER_OTLP_ENDPOINT", "notaurl")));
        OtelEnvironment.Check(anyExporter: false, otlp: false, Reading(("OTEL_RESOURCE_ATTRIBUTES", "team")));
        Assert.Throws<UsageException>(() => OtelEnvironment.Check(anyExporter: true, otlp: false, Reading(("OTEL_RESOURCE_ATTRIBUTES", "team"))));
    }

    [Fact]
    public void A_control_character_in_a_value_is_escaped_so_the_message_stays_one_line()
    {
        var refused = Assert.Throws<UsageException>(() =>
            OtelEnvironment.Check(anyExporter: true, otlp: true, Reading(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a\n\u001b[31m"))));

        Assert.Contains(@"'http://a\u000a\u001b[31m'", refused.Message, StringComparison.Ordinal);
    }

    private static Func<string, string?> Reading(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}
