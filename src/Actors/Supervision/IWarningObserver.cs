using HekiActors.Protocol;

namespace HekiActors.Actors.Supervision;

/// <summary>
/// Sees every report the warning supervisor decides on, with its decision: each injected #PF (a
/// <see cref="FaultReport"/>), each CR write refused for clearing a pinned bit (site <c>BlockedCr</c>), each refused
/// immutable change, ... A live view (the dashboard) counts violations per VM from it without asking any VM.
/// </summary>
/// <remarks>Called on the supervisor's thread, in arrival order, for every report: keep it cheap and never block.</remarks>
public interface IWarningObserver
{
    /// <param name="report">The report, as the VM or vCPU sent it.</param>
    /// <param name="printed">True when the warning was printed, false when the rate limit suppressed it.</param>
    void Decided(IWarningReport report, bool printed);
}
