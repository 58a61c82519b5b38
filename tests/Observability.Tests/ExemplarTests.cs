using System.Diagnostics;
using OpenTelemetry.Metrics;

namespace HekiActors.Observability.Tests;

/// <summary>Histogram exemplars point at sampled traces (issue 5).</summary>
public sealed class ExemplarTests
{
    [Fact]
    public async Task Fast_path_histogram_exemplars_point_at_sampled_fast_path_spans()
    {
        using var capture = new TelemetryCapture();
        await using var host = GuestSequence.StartHost();
        await GuestSequence.RunAsync(host);
        var metrics = capture.Metrics();
        var spans = capture.Spans();

        var fastPathTraces = spans.Where(s => s.OperationName == HekiSpans.FastPath).Select(s => s.TraceId).ToHashSet();
        Assert.NotEmpty(fastPathTraces);
        var exemplarTraces = new List<ActivityTraceId>();
        foreach (var point in metrics["heki.fastpath.duration"].MetricPoints)
        {
            if (!point.TryGetExemplars(out var exemplars))
                continue;
            foreach (var exemplar in exemplars)
                exemplarTraces.Add(exemplar.TraceId);
        }

        Assert.NotEmpty(exemplarTraces);
        Assert.All(exemplarTraces, trace => Assert.Contains(trace, fastPathTraces));
    }
}
