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
            "--fastpath-span-ratio", "0.5", "--per-vm-labels", "300", "--final-scrape-wait", "3s");
        Assert.Equal(new TelemetryOptions(Otlp: true, PrometheusPort: 9999, Console: true, TraceSampleRatio: 0.25,
            FastPathSpanRatio: 0.5, PerVmLabelLimit: 300, FinalScrapeWait: TimeSpan.FromSeconds(3)), telemetry);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0s")]
    [InlineData("0ms")]
    [InlineData("0m0s")]
    public void A_final_scrape_wait_of_zero_in_any_unit_turns_the_wait_off(string zero)
    {
        Assert.Equal(TimeSpan.Zero, Read("--telemetry", "prometheus", "--final-scrape-wait", zero).FinalScrapeWait);
        Assert.Throws<UsageException>(() => Read("--telemetry", "prometheus", "--final-scrape-wait", "-1s"));
        Assert.Throws<UsageException>(() => Read("--telemetry", "prometheus", "--final-scrape-wait", "soon"));
    }

    [Theory]
    [InlineData]
    [InlineData("--telemetry", "otlp,console")]
    public void A_final_scrape_wait_without_a_Prometheus_endpoint_is_refused(params string[] exporters)
    {
        var refused = Assert.Throws<UsageException>(() => Read([.. exporters, "--final-scrape-wait", "5s"]));
        Assert.Equal("--final-scrape-wait is for a Prometheus endpoint: add --telemetry prometheus or --metrics-port PORT", refused.Message);
    }

    [Fact]
    public void Per_vm_labels_need_a_limit_that_covers_the_run()
    {
        // The default scenario has 300 VMs: a limit of 299 would overflow, so the run is refused before it starts.
        var refused = Assert.Throws<UsageException>(() => Read("--per-vm-labels", "299"));
        Assert.Contains("--per-vm-labels 299", refused.Message);
        Assert.Contains("300", refused.Message);
        Assert.Throws<UsageException>(() => Read("--per-vm-labels", "0"));
        Assert.Throws<UsageException>(() => Read("--per-vm-labels"));
    }

    [Fact]
    public void Prometheus_without_a_port_uses_the_default_one()
    {
        Assert.Equal(TelemetryExporters.DefaultPrometheusPort, Read("--telemetry", "prometheus").PrometheusPort);
        var fromScenario = TelemetryExporters.Options([TelemetryExporters.Prometheus, TelemetryExporters.Otlp], null, null, null, null, null);
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
