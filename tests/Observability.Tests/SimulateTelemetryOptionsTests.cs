using System.CommandLine;
using HekiActors.Cli.Simulate;

namespace HekiActors.Observability.Tests;

/// <summary>How <c>heki simulate</c>'s telemetry options and a scenario's exporters become <see cref="TelemetryOptions"/>.</summary>
public sealed class SimulateTelemetryOptionsTests
{
    [Fact]
    public void Telemetry_is_off_by_default()
    {
        var telemetry = Read();
        Assert.False(telemetry.AnyExporter);
        Assert.Equal(TelemetryOptions.Off, telemetry);
    }

    [Fact]
    public void Options_turn_each_exporter_and_knob_on()
    {
        var telemetry = Read("--telemetry", "otlp,console", "--metrics-port", "9999", "--trace-ratio", "0.25",
            "--fastpath-span-ratio", "0.5", "--per-vm-labels");
        Assert.Equal(new TelemetryOptions(Otlp: true, PrometheusPort: 9999, Console: true, TraceSampleRatio: 0.25,
            FastPathSpanRatio: 0.5, PerVmLabels: true), telemetry);
    }

    [Fact]
    public void Prometheus_without_a_port_uses_the_default_one()
    {
        Assert.Equal(TelemetryExporters.DefaultPrometheusPort, Read("--telemetry", "prometheus").PrometheusPort);
        var fromScenario = TelemetryExporters.Options([TelemetryExporters.Prometheus, TelemetryExporters.Otlp], null, null, null, null, false);
        Assert.Equal(TelemetryExporters.DefaultPrometheusPort, fromScenario.PrometheusPort);
        Assert.True(fromScenario.Otlp);
    }

    [Theory]
    [InlineData("--telemetry", "jaeger", "--telemetry must be one of otlp, prometheus, console, got jaeger")]
    [InlineData("--metrics-port", "0", "--metrics-port must be a port number from 1 to 65535, got 0")]
    [InlineData("--metrics-port", "http", "--metrics-port must be a port number from 1 to 65535, got http")]
    [InlineData("--trace-ratio", "1.5", "--trace-ratio must be 0 or a number from 1e-9 to 1, got 1.5")]
    [InlineData("--fastpath-span-ratio", "-1", "--fastpath-span-ratio must be 0 or a number from 1e-9 to 1, got -1")]
    public void Bad_values_are_usage_errors(string option, string value, string message)
    {
        var e = Assert.Throws<UsageException>(() => Read(option, value));
        Assert.Equal(message, e.Message);
    }

    private static TelemetryOptions Read(params string[] args)
    {
        var options = new SimulateOptions();
        var command = new Command("simulate");
        options.AddTo(command);
        return options.Read(command.Parse(args)).Telemetry!;
    }
}
