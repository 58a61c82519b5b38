using System.Diagnostics;
using HekiActors.Memory;
using HekiActors.Observability;
using Akka.Actor;
using HekiActors.Protocol;

namespace HekiActors.Vcpu;

// Telemetry of the vCPU (docs/observability.md), recorded where the vCPU decides and never as a message of its
// own: fast-path time per access (a weighted sample of timed groups), the slow path from miss to fill, violations
// as children of the change their translation came from, hypercalls from arrival to reply, and shootdowns. The same
// events go to VcpuCounters (the report's figures) whether or not a listener is on.
public sealed partial class VcpuActor
{
    private static readonly double NanosecondsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    /// <summary>One untraced miss (or untraced violation) in this many is offered to the sampler as a span.</summary>
    internal const int SlowPathSpanEvery = 64;

    private FastPathSampler _fastPathSampler;

    // The hypercall waiting for its VM: when it arrived and its span.
    private long _hypercallStartedAt;
    private string? _hypercallName;
    private Activity? _hypercallSpan;

    /// <summary>The profile, and the VM id when per-VM labels are asked for.</summary>
    private TagList PerVmTags()
    {
        var tags = new TagList { { HekiTags.Profile, _profileTag } };
        if (HekiTelemetry.PerVmLabels)
            tags.Add(HekiTags.Vm, _vmId);
        return tags;
    }

    /// <summary>Adds the counted accesses of one origin to the instruments (a batch's end, or a workload's every few chunks and its end).</summary>
    private void FlushTally(AccessOrigin origin) =>
        _tallies[(int)origin]?.Flush(_profileTag, HekiTelemetry.PerVmLabels ? _vmId : null, origin);

    /// <summary>
    /// The fast-path histogram's share of a timed group of <paramref name="accesses"/> that ran for <paramref name="ticks"/>
    /// (one record per <see cref="TelemetryOptions.FastPathAccessesPerObservation"/> accesses, so the distribution is per
    /// access), with the group's sampled span current (its exemplar) when there is one.
    /// </summary>
    private void FastPathRan(long ticks, int accesses, Activity? span)
    {
        if (accesses <= 0 || !HekiMetrics.FastPathDuration.Enabled || _fastPathSampler.Observations(accesses) is not (var n and > 0))
            return;
        var nanoseconds = ticks * NanosecondsPerTick / accesses;
        var outer = Activity.Current;
        if (span is not null)
            Activity.Current = span;
        var profile = new KeyValuePair<string, object?>(HekiTags.Profile, _profileTag);
        for (var k = 0; k < n; k++)
            HekiMetrics.FastPathDuration.Record(nanoseconds, profile);
        if (span is not null)
            Activity.Current = outer;
    }

    /// <summary>Ends the sampled fast-path span of a group, which ran <paramref name="accesses"/> accesses.</summary>
    private void FastPathSpanEnded(Activity span, int accesses)
    {
        span.SetTag(HekiTags.Profile, _profileTag);
        span.SetTag(HekiTags.Count, accesses);
        HekiSpans.Stop(span);
    }

    /// <summary>
    /// A violation: its span under the store change the hit translation came from (else under the sampled fast-path
    /// group, else a root), and the violation counter with that span current (its exemplar); returns the span's
    /// traceparent for the warning.
    /// </summary>
    private string? Violation(AccessKind kind, bool traced, Activity? fastPathSpan)
    {
        var span = traced ? StartViolationSpan(fastPathSpan) : null;
        if (HekiMetrics.Violations.Enabled)
        {
            var outer = Activity.Current;
            if (span is not null)
                Activity.Current = span;
            var tags = PerVmTags();
            tags.Add(HekiTags.Exception, HekiTagValues.PageFault);
            HekiMetrics.Violations.Add(1, tags);
            if (span is not null)
                Activity.Current = outer;
        }

        if (span is null)
            return null;
        span.SetTag(HekiTags.Profile, _profileTag);
        span.SetTag(HekiTags.AccessKind, HekiTagValues.Of(kind));
        span.SetTag(HekiTags.VmId, _vmId);
        span.SetTag(HekiTags.Vcpu, _index);
        var traceParent = HekiSpans.TraceParentOf(span);
        HekiSpans.Stop(span);
        return traceParent;
    }

    private Activity? StartViolationSpan(Activity? fastPathSpan)
    {
        var changeTrace = _translations.LastHitTraceParent;
        // A fault flood is common (an attacker, a buggy guest): a violation outside any trace is offered to the
        // sampler as a root only once in SlowPathSpanEvery, like an untraced miss.
        if (changeTrace is null && fastPathSpan is null && --_violationSpanCountdown > 0)
            return null;
        if (changeTrace is null && fastPathSpan is null)
            _violationSpanCountdown = SlowPathSpanEvery;
        var parent = HekiSpans.Parse(changeTrace);
        if (parent == default && fastPathSpan is not null)
            parent = fastPathSpan.Context;
        return HekiSpans.StartDetached(HekiSpans.Violation, parent);
    }

    /// <summary>The slow path's latency (report and histogram) and span, from the miss (timed by the batch loop) to this fill.</summary>
    private void SlowPathFilled(TranslationFill fill)
    {
        var missedAt = _missStartedAt;
        _missStartedAt = 0;
        if (missedAt == 0)
            return; // an untimed miss: telemetry off and not a workload
        var now = Stopwatch.GetTimestamp();
        _counters.RecordSlowPath(PicosecondsBetween(missedAt, now), fill.ServicePicoseconds);
        var histogram = HekiMetrics.SlowPathDuration.Enabled;
        var traced = HekiSpans.Enabled;
        if (!histogram && !traced)
            return;
        var elapsed = Stopwatch.GetElapsedTime(missedAt, now);
        Activity? span = null;
        // Misses are frequent: try a span (parse, links, sampler) only for a fill from a traced change, or for one
        // untraced miss in SlowPathSpanEvery, instead of paying that for every miss the sampler then drops.
        if (traced && (fill.TraceParent is not null || --_slowPathSpanCountdown <= 0))
        {
            _slowPathSpanCountdown = SlowPathSpanEvery;
            // A root of its own, linked to the change: every miss under one change would make that trace unbounded.
            var change = HekiSpans.Parse(fill.TraceParent);
            span = HekiSpans.StartDetached(HekiSpans.SlowPath, default, Context.System.Scheduler.Now - elapsed,
                change == default ? null : [new ActivityLink(change)]);
        }

        if (histogram)
        {
            // With the miss's span current, so the bucket's exemplar points at it.
            var outer = Activity.Current;
            if (span is not null)
                Activity.Current = span;
            HekiMetrics.SlowPathDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(HekiTags.Profile, _profileTag));
            if (span is not null)
                Activity.Current = outer;
        }

        if (span is null)
            return;
        span.SetTag(HekiTags.Profile, _profileTag);
        span.SetTag(HekiTags.VmId, _vmId);
        span.SetTag(HekiTags.Vcpu, _index);
        HekiSpans.Stop(span);
    }

    /// <summary>The vCPU's part of a traced shootdown: a child of the VM's shootdown span.</summary>
    private void TraceInvalidation(string traceParent, int dropped)
    {
        var span = HekiSpans.StartDetached(HekiSpans.Invalidate, HekiSpans.Parse(traceParent));
        if (span is null)
            return;
        span.SetTag(HekiTags.Profile, _profileTag);
        span.SetTag(HekiTags.Count, dropped);
        span.SetTag(HekiTags.VmId, _vmId);
        span.SetTag(HekiTags.Vcpu, _index);
        HekiSpans.Stop(span);
    }

    /// <summary>
    /// A hypercall the vCPU passes to its VM: timed from now, and traced as <see cref="HekiSpans.Hypercall"/> (a child of
    /// the guest's context). Returns the traceparent the VM's part continues.
    /// </summary>
    private string? StartHypercall(string hypercall, string? traceParent)
    {
        _hypercallStartedAt = Stopwatch.GetTimestamp();
        _hypercallName = hypercall;
        _hypercallSpan = HekiSpans.Enabled ? HekiSpans.StartDetached(HekiSpans.Hypercall, HekiSpans.Parse(traceParent)) : null;
        return _hypercallSpan is null ? traceParent : HekiSpans.TraceParentOf(_hypercallSpan);
    }

    /// <summary>The VM answered the hypercall started by <see cref="StartHypercall"/>.</summary>
    private void HypercallAnswered(HypercallServed served)
    {
        var span = _hypercallSpan;
        _hypercallSpan = null;
        if (_hypercallName is { } name)
            HypercallDone(name, served.Done.Ret, HekiTagValues.StageVm, _hypercallStartedAt, span, served.ServicePicoseconds);
        _hypercallName = null;
    }

    /// <summary>A hypercall the vCPU refuses itself (CPL ≠ 0, unknown number, raw PROTECT_MEMORY): answered and counted here.</summary>
    private void RefuseHypercall(string hypercall, long ret, bool cpl)
    {
        var startedAt = Stopwatch.GetTimestamp();
        if (cpl)
            _counters.RefusedCpl++;
        Sender.Tell(new HypercallDone(ret), Self);
        HypercallDone(hypercall, ret, HekiTagValues.StageVcpu, startedAt, null, servicePicoseconds: long.MaxValue); // all the vCPU's own
    }

    /// <summary>Counts and times a hypercall (report and metrics), with its span current for the exemplars, and ends the span.</summary>
    private void HypercallDone(string hypercall, long ret, string stage, long startedAt, Activity? span, long servicePicoseconds)
    {
        var now = Stopwatch.GetTimestamp();
        var result = HekiTagValues.ResultIndex(ret);
        _counters.CountHypercall(result);
        _counters.RecordHypercall(PicosecondsBetween(startedAt, now), servicePicoseconds);
        if (stage == HekiTagValues.StageVm && hypercall == HekiTagValues.ProtectMemory)
            _counters.RecordProtectMemory(PicosecondsBetween(startedAt, now));
        var outer = Activity.Current;
        if (span is not null)
            Activity.Current = span;
        if (HekiMetrics.Hypercalls.Enabled)
        {
            var tags = PerVmTags();
            tags.Add(HekiTags.Hypercall, hypercall);
            tags.Add(HekiTags.Result, HekiTagValues.Results[result]);
            tags.Add(HekiTags.HypercallStage, stage);
            HekiMetrics.Hypercalls.Add(1, tags);
        }

        if (HekiMetrics.HypercallDuration.Enabled)
            HekiMetrics.HypercallDuration.Record(Stopwatch.GetElapsedTime(startedAt, now).TotalSeconds,
                new TagList { { HekiTags.Hypercall, hypercall }, { HekiTags.Profile, _profileTag } });
        if (span is null)
            return;
        Activity.Current = outer;
        span.SetTag(HekiTags.Hypercall, hypercall);
        span.SetTag(HekiTags.Profile, _profileTag);
        span.SetTag(HekiTags.Result, HekiTagValues.Results[result]);
        span.SetTag(HekiTags.VmId, _vmId);
        span.SetTag(HekiTags.Vcpu, _index);
        HekiSpans.Stop(span);
    }
}
