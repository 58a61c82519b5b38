using System.Diagnostics;

namespace HekiActors.Observability;

/// <summary>
/// Span names and the helpers actors use to open and close spans. An actor's handler runs on a thread it
/// shares with other actors, and a span may outlive the message that opened it (a hypercall waits for its
/// persistence and shootdowns), so spans are opened and closed "detached": <see cref="Activity.Current"/> is
/// left exactly as it was, and a parent is always given explicitly (as carried inside a message).
/// </summary>
public static class HekiSpans
{
    /// <summary>A guest hypercall at the guest's vCPU, from arrival to reply (root, or child of the message's context).</summary>
    public const string Hypercall = "heki.hypercall";

    /// <summary>A hypercall's part at its VM, from receipt to reply (child of <see cref="Hypercall"/>).</summary>
    public const string HypercallAtVm = "heki.hypercall.vm";

    /// <summary>A host request that changes a VM (set_permissions, set_memory_attributes) at its VM.</summary>
    public const string HostRequest = "heki.host.request";

    /// <summary>A guest CR write decided at its VM (blocked when it clears a pinned bit).</summary>
    public const string CrWrite = "heki.cr_write";

    /// <summary>The rule check of a request (and the in-memory apply of what it allows).</summary>
    public const string Validate = "heki.validate";

    /// <summary>A change of the VM's state, from its persistence until every vCPU dropped what it contradicts.</summary>
    public const string StoreChange = "heki.store.change";

    /// <summary>Writing the change's event to the journal.</summary>
    public const string Persist = "heki.persist";

    /// <summary>Shootdowns sent to every vCPU until the last acknowledgement.</summary>
    public const string Shootdown = "heki.shootdown";

    /// <summary>Sending the reply.</summary>
    public const string Reply = "heki.reply";

    /// <summary>A vCPU dropping its cached translations for a shootdown (child of <see cref="Shootdown"/>).</summary>
    public const string Invalidate = "heki.translation.invalidate";

    /// <summary>A translation miss: from the request to the VM until the translation arrives (root, linked to the change).</summary>
    public const string SlowPath = "heki.slowpath";

    /// <summary>A sampled group of fast-path accesses (root).</summary>
    public const string FastPath = "heki.fastpath";

    /// <summary>An access the permissions forbid (child of the change that produced the translation).</summary>
    public const string Violation = "heki.violation";

    /// <summary>The supervisor's decision on a warning: printed or suppressed (child of what reported it).</summary>
    public const string Warning = "heki.warning";

    /// <summary>Whether anyone listens: callers check this before any span work.</summary>
    public static bool Enabled => HekiTelemetry.Source.HasListeners();

    /// <summary>
    /// Starts a span under <paramref name="parent"/> (a root when default, never <see cref="Activity.Current"/>),
    /// leaving <see cref="Activity.Current"/> unchanged. Null when nobody listens or the sampler drops it.
    /// </summary>
    public static Activity? StartDetached(string name, ActivityContext parent, DateTimeOffset startTime = default,
        IEnumerable<ActivityLink>? links = null)
    {
        var source = HekiTelemetry.Source;
        if (!source.HasListeners())
            return null;
        var previous = Activity.Current;
        if (previous is not null)
            Activity.Current = null;
        var activity = source.StartActivity(name, ActivityKind.Internal, parent, tags: null, links, startTime);
        Activity.Current = previous;
        return activity;
    }

    /// <summary>Starts a child of <paramref name="parent"/> (nothing when the parent is null).</summary>
    public static Activity? StartChild(Activity? parent, string name) =>
        parent is null ? null : StartDetached(name, parent.Context);

    /// <summary>Stops a span, leaving <see cref="Activity.Current"/> unchanged (Stop alone would restore the span's predecessor).</summary>
    public static void Stop(Activity? activity)
    {
        if (activity is null)
            return;
        var previous = Activity.Current;
        activity.Stop();
        Activity.Current = previous;
    }

    /// <summary>The W3C traceparent text of a span, carried inside messages (null when there is no span).</summary>
    public static string? TraceParentOf(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;

    /// <summary>The context a message carried (default, i.e. none, when absent or malformed).</summary>
    public static ActivityContext Parse(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;

    /// <summary>Counts down to the next sampled fast-path group: true once every <see cref="HekiTelemetry.FastPathSpanInterval"/> calls.</summary>
    public static bool SampleFastPath(ref int countdown)
    {
        var interval = HekiTelemetry.FastPathSpanInterval;
        if (interval == 0)
            return false;
        if (--countdown > 0)
        {
            // The ratio may have risen since the countdown started: never wait longer than the new interval.
            if (countdown > interval)
                countdown = interval;
            return false;
        }

        countdown = interval;
        return true;
    }
}
