using System.Diagnostics;
using Akka.Actor;
using HekiActors.Memory;
using HekiActors.Observability;

namespace HekiActors.Actors.Vm;

/// <summary>
/// The telemetry of one request at its VM actor, from receipt to reply: the request's span and its steps
/// (validate; store change with persist and shootdown; reply), and for hypercalls their count and latency.
/// Created only when a listener is on (<see cref="Start"/> returns null otherwise), and carried with the change
/// while it waits for persistence and acknowledgements.
/// </summary>
internal sealed class RequestTelemetry
{
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly string _profile;
    private readonly string? _vmId;
    private readonly string? _hypercall;
    private readonly Activity? _span;
    private Activity? _validate;
    private Activity? _change;
    private Activity? _persist;
    private Activity? _shootdown;

    private RequestTelemetry(string spanName, string? hypercall, KeyValuePair<string, object?> kind, string profile, string vmId,
        string? traceParent)
    {
        _profile = profile;
        _vmId = HekiTelemetry.PerVmLabels ? vmId : null;
        _hypercall = hypercall;
        _span = HekiSpans.StartDetached(spanName, HekiSpans.Parse(traceParent));
        _span?.SetTag(kind.Key, kind.Value);
        _span?.SetTag(HekiTags.Profile, profile);
    }

    /// <summary>The store change's traceparent once it is persisted (what translations and violations continue).</summary>
    public string? ChangeTraceParent { get; private set; }

    /// <summary>The traceparent for warnings this request reports (children of the request span).</summary>
    public string? TraceParent => HekiSpans.TraceParentOf(_span);

    /// <summary>A guest hypercall: counted and timed as well as traced.</summary>
    public static RequestTelemetry? Hypercall(string hypercall, HekiProfile profile, string vmId, string? traceParent) =>
        HekiSpans.Enabled || HekiMetrics.Hypercalls.Enabled || HekiMetrics.HypercallDuration.Enabled
            ? new RequestTelemetry(HekiSpans.Hypercall, hypercall, new(HekiTags.Hypercall, hypercall), HekiTagValues.Of(profile), vmId, traceParent)
            : null;

    /// <summary>A host request or a guest CR write: traced only.</summary>
    public static RequestTelemetry? Start(string spanName, KeyValuePair<string, object?> kind, HekiProfile profile, string vmId,
        string? traceParent) =>
        HekiSpans.Enabled ? new RequestTelemetry(spanName, null, kind, HekiTagValues.Of(profile), vmId, traceParent) : null;

    public void Validating() => _validate = HekiSpans.StartChild(_span, HekiSpans.Validate);

    public void Validated() => HekiSpans.Stop(_validate);

    /// <summary>The change is handed to the journal: the store change span and its persist step start.</summary>
    public void Persisting()
    {
        _change = HekiSpans.StartChild(_span, HekiSpans.StoreChange);
        _persist = HekiSpans.StartChild(_change, HekiSpans.Persist);
        ChangeTraceParent = HekiSpans.TraceParentOf(_change);
    }

    /// <summary>The event is in the journal; returns the shootdown span's traceparent for the Shootdown messages.</summary>
    public string? Persisted(bool shootingDown)
    {
        HekiSpans.Stop(_persist);
        if (!shootingDown)
        {
            HekiSpans.Stop(_change);
            return null;
        }

        _shootdown = HekiSpans.StartChild(_change, HekiSpans.Shootdown);
        return HekiSpans.TraceParentOf(_shootdown);
    }

    /// <summary>Every vCPU acknowledged: the change is in force.</summary>
    public void ShotDown()
    {
        HekiSpans.Stop(_shootdown);
        HekiSpans.Stop(_change);
    }

    /// <summary>Ends the request: the reply step (sending <paramref name="reply"/>), the result, the hypercall metrics.</summary>
    public void Reply(IActorRef replyTo, object reply, long ret)
    {
        var step = HekiSpans.StartChild(_span, HekiSpans.Reply);
        replyTo.Tell(reply);
        HekiSpans.Stop(step);
        var result = Errno.Name(ret);
        if (_span is not null)
        {
            _span.SetTag(HekiTags.Result, result);
            HekiSpans.Stop(_span);
        }

        if (_hypercall is null)
            return;
        if (HekiMetrics.Hypercalls.Enabled)
        {
            var tags = new TagList { { HekiTags.Hypercall, _hypercall }, { HekiTags.Result, result }, { HekiTags.Profile, _profile } };
            if (_vmId is not null)
                tags.Add(HekiTags.Vm, _vmId);
            HekiMetrics.Hypercalls.Add(1, tags);
        }

        if (HekiMetrics.HypercallDuration.Enabled)
            HekiMetrics.HypercallDuration.Record(Stopwatch.GetElapsedTime(_startedAt).TotalSeconds,
                new TagList { { HekiTags.Hypercall, _hypercall }, { HekiTags.Profile, _profile } });
    }
}

/// <summary>
/// The traceparents of a VM's recent store changes and the gfns each touched, so a translation handed out later
/// carries the change that last set its run (telemetry only; the oldest are forgotten).
/// </summary>
internal sealed class ChangeTraces
{
    private const int Capacity = 64;
    private readonly (GfnRange Range, string TraceParent)[] _recent = new (GfnRange, string)[Capacity];
    private int _next;
    private int _count;

    public void Remember(GfnRange range, string traceParent)
    {
        _recent[_next] = (range, traceParent);
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
    }

    /// <summary>The newest change overlapping [start, end), or null.</summary>
    public string? Latest(ulong start, ulong end)
    {
        for (var n = 1; n <= _count; n++)
        {
            var (range, traceParent) = _recent[(_next - n + Capacity) % Capacity];
            if (range.Start < end && start < range.End)
                return traceParent;
        }

        return null;
    }

    public void Clear()
    {
        Array.Clear(_recent);
        _next = _count = 0;
    }
}
