using System.Diagnostics;
using OpenTelemetry.Metrics;

namespace HekiActors.Observability.Tests;

/// <summary>Exemplars point at sampled traces (issue 5), and lead from a violation or latency panel to its VM (issue 9).</summary>
public sealed class ExemplarTests
{
    [Theory]
    [InlineData("heki.violations", HekiSpans.Violation)]
    [InlineData("heki.slowpath.duration", HekiSpans.SlowPath)]
    [InlineData("heki.hypercall.duration", HekiSpans.Hypercall)]
    public async Task Exemplars_lead_to_a_span_that_names_the_vm(string metric, string span)
    {
        using var capture = new TelemetryCapture();
        await using var host = GuestSequence.StartHost();
        await GuestSequence.RunAsync(host);
        var metrics = capture.Metrics();
        var spans = capture.Spans();

        var exemplarSpans = new List<ActivitySpanId>();
        foreach (var point in metrics[metric].MetricPoints)
        {
            if (!point.TryGetExemplars(out var exemplars))
                continue;
            foreach (var exemplar in exemplars)
                exemplarSpans.Add(exemplar.SpanId);
        }

        Assert.NotEmpty(exemplarSpans);
        var named = spans.Where(s => s.OperationName == span).ToDictionary(s => s.SpanId);
        Assert.Contains(exemplarSpans, id => named.ContainsKey(id));
        Assert.All(exemplarSpans.Where(named.ContainsKey), id => Assert.Equal(GuestSequence.VmId, named[id].GetTagItem(HekiTags.VmId)));
    }

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
