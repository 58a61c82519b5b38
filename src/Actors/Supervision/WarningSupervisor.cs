using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Protocol;

namespace HekiActors.Actors.Supervision;

/// <summary>
/// Decides which kernel warnings are printed (heki-semantics.md §8): one Linux rate limiter per call site,
/// shared by every heki-v2 VM on the host (so one noisy guest hides another's warnings), one per VM and call
/// site in hardened. Keeps the emitted and suppressed counts. Printed lines go to the Akka log at Warning level
/// and to the sink, in the order they arrive.
/// </summary>
/// <remarks>
/// The limiters and counts live in a <see cref="WarningLimits"/> object the props create once, so a restarted supervisor
/// (it threw) keeps them: a crash must not reopen every interval and let a burst of warnings through.
/// A hardened VM's limiters belong to one incarnation of the VM: its VM actor sends <see cref="ResetVmWarnings"/>
/// when the VM is created and when it is destroyed, before anything of the new incarnation can report, so a VM
/// destroyed and created again under the same id starts with a whole burst per call site (and a destroyed VM's
/// limiters do not outlive it).
/// </remarks>
public sealed class WarningSupervisor : UntypedActor
{
    private readonly TimeProvider _clock;
    private readonly IWarningSink? _sink;
    private readonly IWarningObserver? _observer;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RateLimiter?[] _hostWide;
    private readonly Dictionary<(string VmId, WarningSite Site), RateLimiter> _perVm;
    private readonly long[] _emitted;
    private readonly long[] _suppressed;
    private readonly WarningLimits _limits;

    public WarningSupervisor(TimeProvider clock, IWarningSink? sink, WarningLimits limits, IWarningObserver? observer = null)
    {
        _clock = clock;
        _sink = sink;
        _limits = limits;
        _hostWide = limits.HostWide;
        _perVm = limits.PerVm;
        _emitted = limits.Emitted;
        _suppressed = limits.Suppressed;
        _observer = observer;
    }

    /// <param name="observer">Sees every decision (a live dashboard); null for none.</param>
    public static Props Props(TimeProvider? clock = null, IWarningSink? sink = null, IWarningObserver? observer = null)
    {
        var limits = new WarningLimits();
        return Akka.Actor.Props.Create(() => new WarningSupervisor(clock ?? TimeProvider.System, sink, limits, observer));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IWarningReport report:
                HandleReport(report);
                break;
            case ResetVmWarnings reset:
                foreach (var site in Enum.GetValues<WarningSite>())
                    _perVm.Remove((reset.VmId, site));
                (_sink as IWarningDecisionObserver)?.LimitsReset(reset.VmId);
                break;
            case FlushWarnings:
                Sender.Tell(WarningsFlushed.Instance);
                break;
            case GetWarningStats:
                Sender.Tell(new WarningStats((long[])_emitted.Clone(), (long[])_suppressed.Clone(), _limits.Notices));
                break;
            case CrashWarningSupervisor crash:
                throw new WarningSupervisorCrashException("warning supervisor crashed on request: " + crash.Reason);
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandleReport(IWarningReport report)
    {
        var site = report.Site;
        if (!site.IsRateLimited(report.Profile))
        {
            Emit(report);
            Decided(report, printed: true);
            _observer?.Decided(report, printed: true);
            return;
        }

        var limiter = LimiterFor(report.VmId, report.Profile, site);
        var decision = limiter.Check();
        if (decision.SuppressedToReport > 0)
        {
            _limits.Notices++;
            Print(HekiWarnings.Suppressed(site.Function(), decision.SuppressedToReport));
        }

        if (_sink is IWarningDecisionObserver observer)
            observer.Decided(report.VmId, report.Profile, site, decision.Allowed, decision.Timestamp, _clock.TimestampFrequency);
        if (decision.Allowed)
            Emit(report);
        else
            _suppressed[(int)site]++;
        Decided(report, decision.Allowed);
        _observer?.Decided(report, decision.Allowed);
    }

    /// <summary>
    /// Telemetry of the decision: counted by site, and traced as a child of whatever reported it (a violation, a
    /// hypercall) when that was traced; a report outside any trace gets no span of its own.
    /// </summary>
    private static void Decided(IWarningReport report, bool printed)
    {
        var counter = printed ? HekiMetrics.WarningsEmitted : HekiMetrics.WarningsSuppressed;
        var profile = HekiTagValues.Of(report.Profile);
        var site = HekiTagValues.Of(report.Site);
        if (counter.Enabled)
        {
            var tags = new TagList { { HekiTags.WarningSite, site }, { HekiTags.Profile, profile } };
            if (HekiTelemetry.PerVmLabels)
                tags.Add(HekiTags.Vm, report.VmId);
            counter.Add(1, tags);
        }

        if (report.TraceParent is null || !HekiSpans.Enabled)
            return;
        var span = HekiSpans.StartDetached(HekiSpans.Warning, HekiSpans.Parse(report.TraceParent));
        if (span is null)
            return;
        span.SetTag(HekiTags.WarningSite, site);
        span.SetTag(HekiTags.WarningDecision, printed ? HekiTagValues.Printed : HekiTagValues.Suppressed);
        span.SetTag(HekiTags.Profile, profile);
        span.SetTag(HekiTags.VmId, report.VmId);
        HekiSpans.Stop(span);
    }

    private RateLimiter LimiterFor(string vmId, HekiProfile profile, WarningSite site)
    {
        if (profile == HekiProfile.HekiV2)
            return _hostWide[(int)site] ??= new RateLimiter(_clock, burst: Burst);
        if (!_perVm.TryGetValue((vmId, site), out var limiter))
        {
            limiter = new RateLimiter(_clock, burst: Burst);
            _perVm.Add((vmId, site), limiter);
        }

        return limiter;
    }

    private int Burst => _sink is IPlantedBugCarrier { Planted: PlantedBug.WarningOverLimit }
        ? RateLimiter.DefaultBurst + 1
        : RateLimiter.DefaultBurst;

    /// <summary>Prints a report's line: formatted only if someone reads it (the Akka log, a sink that writes lines).</summary>
    private void Emit(IWarningReport report)
    {
        _emitted[(int)report.Site]++;
        if (_sink is ILineCountingSink { ReadsText: false } counting && !_log.IsWarningEnabled)
            counting.CountLine();
        else
            Print(report.Render());
    }

    private void Print(string text)
    {
        _log.Warning(text);
        _sink?.Write(text);
    }

}

/// <summary>A warning supervisor's limiters and counts, owned by its props so that they outlive a restart.</summary>
public sealed class WarningLimits
{
    internal readonly RateLimiter?[] HostWide = new RateLimiter?[WarningSites.Count];
    internal readonly Dictionary<(string VmId, WarningSite Site), RateLimiter> PerVm = new();
    internal readonly long[] Emitted = new long[WarningSites.Count];
    internal readonly long[] Suppressed = new long[WarningSites.Count];
    internal long Notices;
}

/// <summary>
/// Makes the warning supervisor throw (chaos testing): its parent restarts it and its limits must survive. Local
/// only, never sent across a wire.
/// </summary>
public sealed record CrashWarningSupervisor(string Reason) : INoSerializationVerificationNeeded;

/// <summary>Thrown on purpose by <see cref="CrashWarningSupervisor"/>.</summary>
public sealed class WarningSupervisorCrashException(string message) : Exception(message);
