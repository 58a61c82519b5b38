using System.Diagnostics;
using Akka.Actor;
using HekiActors.Memory;
using HekiActors.Observability;

namespace HekiActors.Actors.Vm;

/// <summary>
/// The telemetry of one request at its VM actor, from receipt to reply: the request's span and its steps
/// (validate; store change with persist and shootdown; reply). A hypercall is counted and timed by the guest's vCPU,
/// whose <c>heki.hypercall</c> span is this one's parent.
/// Created only when a listener is on (<see cref="Start"/> returns null otherwise), and carried with the change
/// while it waits for persistence and acknowledgements.
/// </summary>
internal sealed class RequestTelemetry
{
    private readonly string _vmId;
    private readonly Activity? _span;
    private Activity? _validate;
    private Activity? _change;
    private Activity? _persist;
    private Activity? _shootdown;

    private RequestTelemetry(string spanName, KeyValuePair<string, object?> kind, string profile, string vmId,
        string? traceParent)
    {
        _vmId = vmId;
        _span = HekiSpans.StartDetached(spanName, HekiSpans.Parse(traceParent));
        _span?.SetTag(kind.Key, kind.Value);
        _span?.SetTag(HekiTags.Profile, profile);
        _span?.SetTag(HekiTags.VmId, vmId);
    }

    /// <summary>The store change's traceparent once it is persisted (what translations and violations continue).</summary>
    public string? ChangeTraceParent { get; private set; }

    /// <summary>The traceparent for warnings this request reports (children of the request span).</summary>
    public string? TraceParent => HekiSpans.TraceParentOf(_span);

    /// <summary>A guest hypercall's part at its VM (the vCPU counts and times the whole hypercall): traced only.</summary>
    public static RequestTelemetry? Hypercall(string hypercall, HekiProfile profile, string vmId, string? traceParent) =>
        HekiSpans.Enabled
            ? new RequestTelemetry(HekiSpans.HypercallAtVm, new(HekiTags.Hypercall, hypercall), HekiTagValues.Of(profile), vmId, traceParent)
            : null;

    /// <summary>A host request or a guest CR write: traced only.</summary>
    public static RequestTelemetry? Start(string spanName, KeyValuePair<string, object?> kind, HekiProfile profile, string vmId,
        string? traceParent) =>
        HekiSpans.Enabled ? new RequestTelemetry(spanName, kind, HekiTagValues.Of(profile), vmId, traceParent) : null;

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
        _shootdown?.SetTag(HekiTags.VmId, _vmId);
        return HekiSpans.TraceParentOf(_shootdown);
    }

    /// <summary>Every vCPU acknowledged: the change is in force.</summary>
    public void ShotDown()
    {
        HekiSpans.Stop(_shootdown);
        HekiSpans.Stop(_change);
    }

    /// <summary>
    /// Runs <paramref name="record"/> (an instrument call) on <paramref name="state"/> with the request's span current, so it
    /// can be an exemplar. The state is passed, not captured: a static lambda allocates nothing per call.
    /// </summary>
    public void Counted<TState>(TState state, Action<TState> record)
    {
        var outer = Activity.Current;
        if (_span is not null)
            Activity.Current = _span;
        record(state);
        if (_span is not null)
            Activity.Current = outer;
    }

    /// <summary>Ends the request: the reply step (sending <paramref name="reply"/>) and the result.</summary>
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
