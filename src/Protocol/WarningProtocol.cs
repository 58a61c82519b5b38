using HekiActors.Memory;

namespace HekiActors.Protocol;

/// <summary>A warning for the supervisor to print subject to the profile's rate limit.</summary>
public interface IWarningReport : IWarningMessage
{
    string VmId { get; }
    HekiProfile Profile { get; }
    WarningSite Site { get; }

    /// <summary>The span that led to the warning (W3C traceparent text), or null: the supervisor's decision span is its child.</summary>
    string? TraceParent { get; }

    /// <summary>The kernel's text; built only when the limiter lets it through.</summary>
    string Render();
}

/// <summary>A warning whose text is already known.</summary>
public sealed record WarningReport(string VmId, HekiProfile Profile, WarningSite Site, string Text, string? TraceParent = null) : IWarningReport
{
    public string Render() => Text;
}

/// <summary>
/// A range's warning (a PROTECT_MEMORY request line, an immutable rejection: <see cref="WarningLine.ProtectRequest"/>,
/// <see cref="WarningLine.ImmutableChange"/>), formatted only when printed: a boot sends ~17 a VM and most are suppressed
/// or only counted (issue 11).
/// </summary>
public sealed record RangeWarningReport(string VmId, HekiProfile Profile, WarningSite Site, ulong StartGfn, ulong EndGfn, ulong Permissions,
    string? TraceParent = null) : IWarningReport
{
    public string Render() => WarningLine.Render(Site, StartGfn, EndGfn, Permissions);
}

/// <summary>An injected #PF; formatted lazily because a flood of violations is mostly suppressed.</summary>
public sealed record FaultReport(string VmId, HekiProfile Profile, AccessKind Kind, ulong Gpa, string? TraceParent = null) : IWarningReport
{
    public WarningSite Site => WarningSite.Fault;

    public string Render() => HekiWarnings.Fault(Kind, Gpa, Gpa >> VmMemoryAttributes.PageShift);
}

