using HekiActors.TestSupport;

namespace HekiActors.Observability.Tests;

/// <summary>The session's promises (issue 9): series from the start, the final scrape, the OTEL_* variables.</summary>
public sealed class TelemetrySessionTests
{
    [Fact]
    public async Task Every_counter_series_exists_at_zero_before_anything_happens()
    {
        var port = LoopbackPorts.Free();
        using var session = TelemetrySession.Start(new TelemetryOptions(PrometheusPort: port));
        var body = await Scrape(port);

        // A count made before Prometheus' first scrape would otherwise never show in rate(): the series start at 0.
        foreach (var count in HekiVocabulary.Counts.Where(c => c.PrometheusSeries != "heki_attacks_total"))
            Assert.Contains(count.PrometheusSeries + "{", body, StringComparison.Ordinal);
        Assert.Contains("heki_telemetry_spans_dropped_total", body, StringComparison.Ordinal);
        Assert.Contains("heki_telemetry_export_failures_total", body, StringComparison.Ordinal);
        Assert.DoesNotContain("otel_metric_overflow", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_endpoint_waits_for_a_scrape_after_the_run_ended()
    {
        var port = LoopbackPorts.Free();
        using var session = TelemetrySession.Start(new TelemetryOptions(PrometheusPort: port));
        await Scrape(port); // before the end: does not count
        session.EndRun();
        Assert.False(await session.WaitForFinalScrapeAsync(TimeSpan.FromMilliseconds(300)));

        var waiting = session.WaitForFinalScrapeAsync(TimeSpan.FromSeconds(30));
        await Scrape(port);
        Assert.True(await waiting);
    }

    [Fact]
    public void Otel_service_name_replaces_only_the_service_name()
    {
        var before = Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME");
        try
        {
            Environment.SetEnvironmentVariable("OTEL_SERVICE_NAME", "heki-lab");
            var attributes = TelemetrySession.Resource(TelemetryOptions.Off).Build().Attributes.ToDictionary(a => a.Key, a => a.Value);

            Assert.Equal("heki-lab", attributes["service.name"]);
            Assert.Equal(HekiTelemetry.Version, attributes["service.version"]);
            Assert.True(Guid.TryParse(attributes["service.instance.id"] as string, out _));
        }
        finally
        {
            Environment.SetEnvironmentVariable("OTEL_SERVICE_NAME", before);
        }

        var plain = TelemetrySession.Resource(TelemetryOptions.Off).Build().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(before ?? "heki", plain["service.name"]);
    }

    private static async Task<string> Scrape(int port)
    {
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
    }
}
