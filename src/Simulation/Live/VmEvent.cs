using System.Globalization;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Live;

/// <summary>
/// Something a VM did that Heki stopped or warned about, as the live page lists it: an injected #PF, a refused CR
/// write (#GP), a refused change of an immutable page, ... with whether its kernel warning was printed or
/// suppressed by the rate limit. Holds the report the VM sent (nothing is formatted until someone looks).
/// </summary>
/// <param name="Seconds">Seconds since the run started.</param>
public readonly record struct VmEvent(double Seconds, IWarningReport Report, bool Printed)
{
    /// <summary>What happened, in the vocabulary's words: "#PF write", "CR-pin #GP", or the warning site.</summary>
    public string What => Report switch
    {
        FaultReport fault => "#PF " + fault.Kind.ToString().ToLowerInvariant(),
        { Site: WarningSite.BlockedCr } => "CR-pin #GP",
        { Site: WarningSite.ImmutableChange } => "immutable change refused",
        { Site: WarningSite.ClearingExec } => "exec clear needs MBEC",
        { Site: WarningSite.ProtectRequest } => "protect request",
        _ => Report.Site.ToString(),
    };

    /// <summary>The kernel's warning text (as printed, or as it would have been).</summary>
    public string Text => Report.Render();

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Seconds:0.000}s {What}: {Text} ({(Printed ? "printed" : "suppressed")})");
}
