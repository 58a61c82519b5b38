using System.Globalization;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Live;

/// <summary>
/// Something a VM did that Heki stopped or warned about, as the live page lists it: an injected #PF, a refused CR
/// write (#GP), a refused change of an immutable page, ... with whether its kernel warning was printed or
/// suppressed by the rate limit. Nothing is formatted until someone looks.
/// </summary>
/// <remarks>
/// Kept as values, not as the report the VM sent (issue 14): a VM's recent events live as long as the run, so a report
/// kept there was a young object hanging off an old one, a card every young collection had to scan until the report had
/// been copied into gen2 (about 15,000 of the 52,000 such cards found in a 10,000-VM run). A #PF is its kind and address;
/// a warning keeps its text (already built by the VM); the VM's id is the VM actors' own string, old from boot. A report
/// of another kind is kept as it is, so it is still formatted only when someone looks.
/// </remarks>
public readonly record struct VmEvent
{
    private readonly string _vmId;
    private readonly string? _text; // a warning's text; null for a #PF, rendered from its kind and address
    private readonly IWarningReport? _other; // a report of another kind, kept as it is
    private readonly ulong _gpa;
    private readonly HekiProfile _profile;
    private readonly WarningSite _site;
    private readonly AccessKind _kind;

    /// <param name="seconds">Seconds since the run started.</param>
    /// <param name="report">What the VM reported (its trace parent is not kept).</param>
    /// <param name="printed">Whether the warning was printed (else suppressed by the rate limit).</param>
    public VmEvent(double seconds, IWarningReport report, bool printed)
    {
        ArgumentNullException.ThrowIfNull(report);
        Seconds = seconds;
        Printed = printed;
        _vmId = report.VmId;
        _profile = report.Profile;
        _site = report.Site;
        switch (report)
        {
            case FaultReport fault:
                _kind = fault.Kind;
                _gpa = fault.Gpa;
                break;
            case WarningReport warning:
                _text = warning.Text;
                break;
            default:
                _other = report;
                break;
        }
    }

    /// <summary>Seconds since the run started.</summary>
    public double Seconds { get; }

    public bool Printed { get; }

    /// <summary>The report, rebuilt from what was kept (without its trace parent).</summary>
    public IWarningReport Report => _other
        ?? (_text is null ? new FaultReport(_vmId, _profile, _kind, _gpa) : new WarningReport(_vmId, _profile, _site, _text));

    private bool IsFault => _text is null && _other is null;

    /// <summary>What happened, in the vocabulary's words: "#PF write", "CR-pin #GP", or the warning site.</summary>
    public string What => IsFault
        ? "#PF " + _kind.ToString().ToLowerInvariant()
        : _site switch
        {
            WarningSite.BlockedCr => "CR-pin #GP",
            WarningSite.ImmutableChange => "immutable change refused",
            WarningSite.ClearingExec => "exec clear needs MBEC",
            WarningSite.ProtectRequest => "protect request",
            _ => _site.ToString(),
        };

    /// <summary>The kernel's warning text (as printed, or as it would have been).</summary>
    public string Text => _text ?? _other?.Render() ?? HekiWarnings.Fault(_kind, _gpa, _gpa >> VmMemoryAttributes.PageShift);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Seconds:0.000}s {What}: {Text} ({(Printed ? "printed" : "suppressed")})");
}
