using System.Diagnostics;

namespace HekiActors.Observability.Tests;

/// <summary>Trace context travels inside messages: one trace runs from a hypercall to a later violation and its warning.</summary>
public sealed class TraceContextTests
{
    [Fact]
    public async Task A_hypercall_trace_links_the_store_change_a_later_violation_and_its_warning()
    {
        using var capture = new TelemetryCapture();
        // The guest's own span: the hypercall continues it, as a caller outside the model would.
        var guest = HekiSpans.StartDetached("test.guest", default);
        Assert.NotNull(guest);
        await using (var host = GuestSequence.StartHost())
        {
            await GuestSequence.RunAsync(host, HekiSpans.TraceParentOf(guest));
        }

        HekiSpans.Stop(guest);
        var spans = capture.Spans();
        var trace = spans.Where(s => s.TraceId == guest!.TraceId).ToList();
        var byId = trace.ToDictionary(s => s.SpanId);
        Activity ParentOf(Activity span) => byId[span.ParentSpanId];

        var hypercall = Assert.Single(trace, s => s.OperationName == HekiSpans.Hypercall);
        Assert.Equal(guest!.SpanId, hypercall.ParentSpanId);
        Assert.Equal(HekiTagValues.ProtectMemory, hypercall.GetTagItem(HekiTags.Hypercall));
        // The vCPU's span covers the whole hypercall; the VM's part is its child, and the change the VM's.
        var atVm = Assert.Single(trace, s => s.OperationName == HekiSpans.HypercallAtVm);
        Assert.Same(hypercall, ParentOf(atVm));
        Assert.Equal(GuestSequence.VmId, hypercall.GetTagItem(HekiTags.VmId));
        Assert.Equal(0, hypercall.GetTagItem(HekiTags.Vcpu));
        var change = Assert.Single(trace, s => s.OperationName == HekiSpans.StoreChange);
        Assert.Same(atVm, ParentOf(change));
        Assert.Same(change, ParentOf(Assert.Single(trace, s => s.OperationName == HekiSpans.Persist)));
        var shootdown = Assert.Single(trace, s => s.OperationName == HekiSpans.Shootdown);
        Assert.Same(change, ParentOf(shootdown));
        Assert.All(trace.Where(s => s.OperationName == HekiSpans.Invalidate), s => Assert.Same(shootdown, ParentOf(s)));

        // The later batch on another vCPU: its translation came from the change, so its violations are the change's children.
        var violations = trace.Where(s => s.OperationName == HekiSpans.Violation).ToList();
        Assert.Equal(GuestSequence.Violations, violations.Count);
        Assert.All(violations, v => Assert.Same(change, ParentOf(v)));
        // A violation names its VM and vCPU, so a dashboard's exemplar leads to the VM behind it.
        Assert.All(violations, v => Assert.Equal(GuestSequence.VmId, v.GetTagItem(HekiTags.VmId)));
        Assert.True(violations.Min(v => v.StartTimeUtc) >= change.StartTimeUtc);

        // And each violation's warning decision is the violation's child: printed for the first 10, then suppressed.
        var warnings = trace.Where(s => s.OperationName == HekiSpans.Warning && s.GetTagItem(HekiTags.WarningSite) is "fault").ToList();
        Assert.Equal(GuestSequence.Violations, warnings.Count);
        Assert.All(warnings, w => Assert.Equal(HekiSpans.Violation, ParentOf(w).OperationName));
        Assert.Equal(10, warnings.Count(w => w.GetTagItem(HekiTags.WarningDecision) is HekiTagValues.Printed));
        Assert.Equal(GuestSequence.Violations - 10, warnings.Count(w => w.GetTagItem(HekiTags.WarningDecision) is HekiTagValues.Suppressed));
    }

    [Fact]
    public async Task A_later_change_starts_a_trace_of_its_own()
    {
        using var capture = new TelemetryCapture();
        await using (var host = GuestSequence.StartHost())
        {
            await GuestSequence.RunAsync(host);
        }

        var hypercalls = capture.Spans().Where(s => s.OperationName == HekiSpans.Hypercall).ToList();
        Assert.Equal(4, hypercalls.Count);
        Assert.Equal(4, hypercalls.Select(s => s.TraceId).Distinct().Count());
        Assert.All(hypercalls, s => Assert.Equal(default, s.ParentSpanId));
    }

    [Fact]
    public void Trace_parent_text_round_trips_and_bad_text_is_no_context()
    {
        using var capture = new TelemetryCapture();
        var span = HekiSpans.StartDetached("test.span", default);
        var text = HekiSpans.TraceParentOf(span);
        Assert.NotNull(text);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", text);
        Assert.Equal(span!.Context.SpanId, HekiSpans.Parse(text).SpanId);
        Assert.Equal(default, HekiSpans.Parse("not a traceparent"));
        Assert.Equal(default, HekiSpans.Parse(null));
        HekiSpans.Stop(span);
    }

    [Fact]
    public void Detached_spans_leave_the_current_activity_alone()
    {
        using var capture = new TelemetryCapture();
        using var outer = new ActivitySource("test.outer");
        Assert.Null(Activity.Current);
        var span = HekiSpans.StartDetached("test.detached", default);
        Assert.Null(Activity.Current);
        Assert.Equal(default, span!.ParentSpanId); // a root, not a child of whatever was current
        HekiSpans.Stop(span);
        Assert.Null(Activity.Current);
    }

    [Fact]
    public void Fast_path_sampling_follows_the_ratio()
    {
        using var capture = new TelemetryCapture(new TelemetryOptions(FastPathSpanRatio: 0.01));
        var countdown = 0;
        var sampled = Enumerable.Range(0, 1000).Count(_ => HekiSpans.SampleFastPath(ref countdown));
        Assert.Equal(10, sampled);
    }
}
