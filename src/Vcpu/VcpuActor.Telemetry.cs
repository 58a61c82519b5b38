using System.Diagnostics;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Protocol;

namespace HekiActors.Vcpu;

// Telemetry of the vCPU (docs/observability.md), recorded where the vCPU decides and never as a message of its
// own: fast-path time per timed group of accesses, the slow path from miss to fill, violations as children of
// the change their translation came from, and shootdowns. Every method is reached only when a listener is on.
public sealed partial class VcpuActor
{
    private static readonly double NanosecondsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    /// <summary>
    /// One timed group in this many is recorded in the fast-path histogram. An SDK histogram record costs far more
    /// than a group's bookkeeping (measured: recording every group cost ~10% of simulated throughput), while a
    /// sample keeps the distribution's shape; groups with a sampled span are always recorded, for exemplars.
    /// </summary>
    internal const int FastPathRecordEvery = 16;

    /// <summary>One untraced miss (or untraced violation) in this many is offered to the sampler as a span.</summary>
    internal const int SlowPathSpanEvery = 64;

    /// <summary>The profile, and the VM id when per-VM labels are asked for.</summary>
    private TagList PerVmTags()
    {
        var tags = new TagList { { HekiTags.Profile, _profileTag } };
        if (HekiTelemetry.PerVmLabels)
            tags.Add(HekiTags.Vm, _vmId);
        return tags;
    }

    /// <summary>Adds the counted accesses to the instruments (a batch's end, or a workload's every few chunks and its end).</summary>
    private void FlushTally() => _tally?.Flush(_profileTag, HekiTelemetry.PerVmLabels ? _vmId : null);

    /// <summary>A histogram record for one timed group in <see cref="FastPathRecordEvery"/> (the time per access), and the group's span if it was sampled.</summary>
    private void FastPathRan(long startedAt, long now, int accesses, Activity? span)
    {
        if (accesses > 0 && HekiMetrics.FastPathDuration.Enabled && (span is not null || --_fastPathRecordCountdown <= 0))
        {
            _fastPathRecordCountdown = FastPathRecordEvery;
            var nanoseconds = (now - startedAt) * NanosecondsPerTick / accesses;
            // Recorded with the sampled group's span current, so the bucket's exemplar points at a sampled trace.
            var outer = Activity.Current;
            if (span is not null)
                Activity.Current = span;
            HekiMetrics.FastPathDuration.Record(nanoseconds, new KeyValuePair<string, object?>(HekiTags.Profile, _profileTag));
            if (span is not null)
                Activity.Current = outer;
        }

        if (span is null)
            return;
        span.SetTag(HekiTags.Profile, _profileTag);
        span.SetTag(HekiTags.Count, accesses);
        HekiSpans.Stop(span);
    }

    /// <summary>
    /// A violation span under the store change the hit translation came from (else under the sampled fast-path
    /// group, else a root); returns its traceparent for the warning.
    /// </summary>
    private string? TraceViolation(AccessKind kind, Activity? fastPathSpan)
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
        var span = HekiSpans.StartDetached(HekiSpans.Violation, parent);
        if (span is null)
            return null;
        span.SetTag(HekiTags.Profile, _profileTag);
        span.SetTag(HekiTags.AccessKind, HekiTagValues.Of(kind));
        var traceParent = HekiSpans.TraceParentOf(span);
        HekiSpans.Stop(span);
        return traceParent;
    }

    /// <summary>The slow path's latency and span, from the miss (timed by the batch loop) to this fill.</summary>
    private void SlowPathFilled(TranslationFill fill)
    {
        var missedAt = _missStartedAt;
        _missStartedAt = 0;
        if (missedAt == 0)
            return; // the miss happened with telemetry off
        var histogram = HekiMetrics.SlowPathDuration.Enabled;
        var traced = HekiSpans.Enabled;
        if (!histogram && !traced)
            return;
        var elapsed = Stopwatch.GetElapsedTime(missedAt);
        if (histogram)
            HekiMetrics.SlowPathDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(HekiTags.Profile, _profileTag));
        // Misses are frequent: try a span (parse, links, sampler) only for a fill from a traced change, or for one
        // untraced miss in SlowPathSpanEvery, instead of paying that for every miss the sampler then drops.
        if (!traced || (fill.TraceParent is null && --_slowPathSpanCountdown > 0))
            return;
        _slowPathSpanCountdown = SlowPathSpanEvery;
        // A root of its own, linked to the change: every miss under one change would make that trace unbounded.
        var change = HekiSpans.Parse(fill.TraceParent);
        var span = HekiSpans.StartDetached(HekiSpans.SlowPath, default, DateTimeOffset.UtcNow - elapsed,
            change == default ? null : [new ActivityLink(change)]);
        if (span is null)
            return;
        span.SetTag(HekiTags.Profile, _profileTag);
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
        HekiSpans.Stop(span);
    }
}
