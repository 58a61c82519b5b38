using System.Text.Json;
using HekiActors.Cli.Simulate;
using Xunit.Abstractions;

namespace HekiActors.Observability.Tests;

/// <summary>
/// Issue 9's OTLP "Done when": a default-size simulation exporting by OTLP/HTTP to an in-process receiver at
/// --trace-ratio 1. The final exported counters equal the JSON report's, no span is lost without the report
/// counting it, and no received span's parent is missing. And an exporter with no collector says so.
/// </summary>
public sealed class OtlpEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_default_run_at_trace_ratio_1_exports_every_span_and_the_reports_counts()
    {
        using var receiver = new OtlpReceiver();
        var work = Directory.CreateTempSubdirectory("heki-otlp-");
        var reportPath = Path.Combine(work.FullName, "report.json");
        var log = new StringWriter();
        int exit;
        using (new OtlpEnvironment(receiver.Endpoint))
            exit = await Run(log, "--telemetry", "otlp", "--trace-ratio", "1", "--report", reportPath);
        output.WriteLine(log.ToString());
        Assert.Equal(0, exit);

        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(reportPath));
        var mismatches = new List<string>();
        foreach (var run in report.RootElement.GetProperty("runs").EnumerateArray())
        {
            var profile = run.GetProperty("profile").GetString()!;
            foreach (var count in HekiVocabulary.Counts)
            {
                var expected = run.GetProperty("counts").GetProperty(count.Key).GetInt64();
                var matchers = $"heki_profile=\"{profile}\"" + (count.Matchers.Length == 0 ? "" : "," + count.Matchers);
                var exported = receiver.Sum(count.Metric, matchers);
                if (exported != expected)
                    mismatches.Add($"{profile} {count.Key}: report {expected}, OTLP {exported?.ToString() ?? "nothing"}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        var telemetry = report.RootElement.GetProperty("telemetry");
        var ended = telemetry.GetProperty("spans_ended").GetInt64();
        var dropped = telemetry.GetProperty("spans_dropped").GetInt64();
        var spans = receiver.Spans;
        output.WriteLine($"{spans.Count:N0} spans received in {receiver.TraceRequests} requests; report: {ended:N0} ended, {dropped:N0} dropped");
        Assert.Equal(0, telemetry.GetProperty("export_failures").GetInt64());
        Assert.True(ended > 10_000, $"only {ended} spans at --trace-ratio 1");
        // Nothing silently lost: what did not arrive is what the report says was dropped.
        Assert.Equal(ended - dropped, spans.Count);
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var orphans = spans.Where(s => s.ParentSpanId.Length > 0 && !ids.Contains(s.ParentSpanId)).ToList();
        Assert.True(orphans.Count == 0, $"{orphans.Count} spans whose parent never arrived, e.g. {orphans.FirstOrDefault()}");

        // Every violation names its VM, so a dashboard's exemplar leads to the VM behind it.
        var violations = spans.Where(s => s.Name == HekiSpans.Violation).ToList();
        Assert.NotEmpty(violations);
        Assert.All(violations, v => Assert.StartsWith("sim-", v.Attributes[HekiTags.VmId], StringComparison.Ordinal));
        Assert.Equal("heki", receiver.Resource["service.name"]);
        Assert.Equal(HekiTelemetry.Version, receiver.Resource["service.version"]);
        Assert.True(receiver.Resource.ContainsKey("service.instance.id"));
        work.Delete(recursive: true);
    }

    [Theory]
    [InlineData("grpc")] // the default protocol: an unreachable collector is only a warning in the exporter's log
    [InlineData("http/protobuf")]
    public async Task An_otlp_exporter_without_a_collector_is_reported_not_silent(string protocol)
    {
        using var nobody = new OtlpReceiver();
        var endpoint = nobody.Endpoint;
        nobody.Dispose(); // nothing listens there now
        var work = Directory.CreateTempSubdirectory("heki-otlp-");
        var reportPath = Path.Combine(work.FullName, "report.json");
        var log = new StringWriter();
        int exit;
        using (new OtlpEnvironment(endpoint, protocol))
            exit = await Run(log, "--vms", "5", "--duration", "1s", "--telemetry", "otlp", "--trace-ratio", "1", "--report", reportPath);
        output.WriteLine(log.ToString());

        Assert.Equal(0, exit);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(reportPath));
        var telemetry = report.RootElement.GetProperty("telemetry");
        // At least one failed span batch and the final metrics push.
        Assert.True(telemetry.GetProperty("export_failures").GetInt64() >= 2, telemetry.ToString());
        Assert.Contains("OTLP", telemetry.GetProperty("first_failure").GetString(), StringComparison.Ordinal);
        Assert.Contains("exports failed", log.ToString(), StringComparison.Ordinal);
        work.Delete(recursive: true);
    }

    private static async Task<int> Run(TextWriter log, params string[] args)
    {
        var options = new SimulateOptions();
        var command = new System.CommandLine.Command("simulate");
        options.AddTo(command);
        var request = options.Read(command.Parse([.. args, "--no-progress"]));
        return await new SimulationRunner(SimulateCommand.CreateEngine, log, log).RunAsync(request, CancellationToken.None);
    }

    /// <summary>Points the standard OTEL_EXPORTER_OTLP_* variables at a receiver (http/protobuf unless told) for the test's duration.</summary>
    private sealed class OtlpEnvironment : IDisposable
    {
        private static readonly string[] Names = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TIMEOUT"];
        private readonly string?[] _before = Names.Select(Environment.GetEnvironmentVariable).ToArray();

        public OtlpEnvironment(string endpoint, string protocol = "http/protobuf")
        {
            Environment.SetEnvironmentVariable(Names[0], endpoint);
            Environment.SetEnvironmentVariable(Names[1], protocol);
            Environment.SetEnvironmentVariable(Names[2], "5000");
        }

        public void Dispose()
        {
            for (var i = 0; i < Names.Length; i++)
                Environment.SetEnvironmentVariable(Names[i], _before[i]);
        }
    }
}
