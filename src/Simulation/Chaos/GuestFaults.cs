using HekiActors.Observability;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// One guest kernel's fault decisions under a scenario's <see cref="SimulationChaos"/> (<c>heki simulate</c>): the plan's
/// decision for a request, counted (for the report and <c>heki.chaos.faults</c>) when it hits. Owned by one actor.
/// </summary>
internal sealed class GuestFaults(FaultPlan plan, string vmId, string profileTag)
{
    /// <summary>Faults injected so far, indexed by <see cref="FaultKind"/>.</summary>
    public long[] Injected { get; } = new long[FaultKinds.All.Length];

    /// <summary>The identity of this VM's request number <paramref name="request"/>: what decides its faults.</summary>
    public Guid IdentityOf(ulong request) => FaultPlan.IdentityOf(vmId, (long)request);

    /// <summary>Whether <paramref name="kind"/> hits the request; counted when it does.</summary>
    public bool Hits(FaultKind kind, Guid identity)
    {
        if (!plan.Hits(kind, identity))
            return false;
        Injected[(int)kind]++;
        ChaosTelemetry.Injected(kind, profileTag);
        return true;
    }

    /// <summary>A hit fault's parameter in [0, <paramref name="bound"/>) (a delay, a skew, a vCPU), from the same identity.</summary>
    public ulong Parameter(FaultKind kind, Guid identity, ulong bound) => plan.Parameter(kind, identity, bound);
}
