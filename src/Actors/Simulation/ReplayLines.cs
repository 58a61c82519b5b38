using System.Globalization;
using System.Text;
using System.Text.Json;
using HekiActors.Memory;
using HekiActors.Vcpu.Guest;
using HekiActors.Vcpu.Hypercalls;
using HekiActors.Vcpu.Protocol;

namespace HekiActors.Actors.Simulation;

/// <summary>
/// Renders simulation operations as replay-format request lines (docs: replay-format.md). Extra fields the
/// replayer ignores say what the simulation observed (<c>observed</c>) and why it did it (<c>attack</c>,
/// <c>event</c>, <c>sample</c>), so a replay can be checked against the run line by line.
/// </summary>
internal static class ReplayLines
{
    public static string CreateVm(string vmId, ulong memoryMb, int vcpus, bool mbec) =>
        Invariant($"{{\"op\":\"create_vm\",\"vm\":{Quote(vmId)},\"memory_mb\":{memoryMb},\"vcpus\":{vcpus},\"mbec\":{(mbec ? "true" : "false")}}}");

    public static string DestroyVm(string vmId) => Invariant($"{{\"op\":\"destroy_vm\",\"vm\":{Quote(vmId)}}}");

    /// <summary>The line for <paramref name="op"/>, with what it returned and an optional tag (e.g. <c>"attack":"WriteRodata"</c>).</summary>
    public static string For(string vmId, GuestOperation op, OperationResult? observed, string? tagName = null, string? tagValue = null)
    {
        var line = new StringBuilder(128);
        switch (op)
        {
            case AccessOperation access:
                line.Append(Invariant($"{{\"op\":\"access\",\"vm\":{Quote(vmId)},\"vcpu\":{access.Vcpu},\"gpa\":{access.Gpa},\"kind\":\"{access.Kind.Name()}\",\"cpl\":{access.Cpl}"));
                if (observed is { } a)
                    line.Append(",\"observed\":\"").Append(AccessName(a.AccessResult)).Append('"');
                break;
            case ProtectOperation protect:
                line.Append(Invariant($"{{\"op\":\"protect\",\"vm\":{Quote(vmId)},\"vcpu\":{protect.Vcpu},\"cpl\":{protect.Cpl},"));
                if (protect.ListPages.Length == 1)
                {
                    line.Append("\"ranges\":");
                    AppendRanges(line, protect.ListPages[0]);
                }
                else
                {
                    line.Append("\"list_pages\":[");
                    for (var p = 0; p < protect.ListPages.Length; p++)
                    {
                        if (p > 0)
                            line.Append(',');
                        AppendRanges(line, protect.ListPages[p]);
                    }

                    line.Append(']');
                }

                if (observed is { } r)
                    line.Append(Invariant($",\"observed\":{r.Value}"));
                break;
            case LockCrOperation lockCr:
                line.Append(Invariant($"{{\"op\":\"lock_cr\",\"vm\":{Quote(vmId)},\"vcpu\":{lockCr.Vcpu},\"cr\":{lockCr.Cr},\"pin\":{lockCr.Pin},\"flags\":0"));
                if (observed is { } l)
                    line.Append(Invariant($",\"observed\":{l.Value}"));
                break;
            case WriteCrOperation write:
                line.Append(Invariant($"{{\"op\":\"write_cr\",\"vm\":{Quote(vmId)},\"vcpu\":{write.Vcpu},\"cr\":{write.Cr},\"value\":{write.Value}"));
                if (observed is { } w)
                    line.Append(",\"observed\":\"").Append(w.Value != 0 ? "ok" : "gp").Append('"');
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, "no replay form for this operation");
        }

        if (tagName is not null)
            line.Append(',').Append(Quote(tagName)).Append(':').Append(tagValue is null ? "true" : Quote(tagValue));
        return line.Append('}').ToString();
    }

    public static string AccessName(AccessResult result) => result switch
    {
        AccessResult.Ok => "ok",
        AccessResult.PageFault => "pf",
        AccessResult.Mmio => "mmio",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "unknown access result"),
    };

    private static void AppendRanges(StringBuilder line, MemoryRange[] ranges)
    {
        line.Append('[');
        for (var i = 0; i < ranges.Length; i++)
        {
            if (i > 0)
                line.Append(',');
            line.Append(Invariant($"{{\"pa\":{ranges[i].Pa},\"epa\":{ranges[i].Epa},\"perm\":{ranges[i].Permissions}}}"));
        }

        line.Append(']');
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
