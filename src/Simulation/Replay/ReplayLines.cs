using System.Buffers;
using System.Text;
using System.Text.Json;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Simulation.Replay;

/// <summary>
/// Writes replay-format request lines (replay-format.md): the inverse of <see cref="ReplayParser"/>, so a recording
/// replays to the requests that were made. Fields come in the format table's order; optional fields are written
/// only when they differ from their default, except <c>cpl</c> and <c>mbec</c>, which recordings always spell out.
/// Extra fields (which the replayer ignores) say what the simulation observed and why it acted.
/// </summary>
public static class ReplayLines
{
    /// <summary>The line for <paramref name="request"/>, without a trailing newline.</summary>
    /// <param name="observed">What the request returned when it was recorded (<c>"observed"</c>), or null.</param>
    /// <param name="tag">An extra field naming why the request was made (e.g. <c>"attack":"WriteRodata"</c>), or null.</param>
    public static string Format(ReplayRequest request, ReplayResult? observed = null, ReplayTag? tag = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            WriteRequest(json, request);
            if (observed is not null)
                WriteObserved(json, observed);
            if (tag is { } t)
            {
                if (t.Value is null)
                    json.WriteBoolean(t.Name, true);
                else
                    json.WriteString(t.Name, t.Value);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteRequest(Utf8JsonWriter json, ReplayRequest request)
    {
        switch (request)
        {
            case CreateVmRequest r:
                Op(json, "create_vm", r.Vm);
                json.WriteNumber("memory_mb", r.MemoryMb);
                json.WriteNumber("vcpus", r.Vcpus);
                json.WriteBoolean("mbec", r.Mbec);
                if (r.PrivateMemory)
                    json.WriteBoolean("private_mem", true);
                break;
            case DestroyVmRequest r:
                Op(json, "destroy_vm", r.Vm);
                break;
            case ProtectRequest r:
                Op(json, "protect", r.Vm);
                json.WriteNumber("vcpu", r.Vcpu);
                json.WriteNumber("cpl", r.Cpl);
                // "ranges" is packed into pages of 169 when parsed: only one page that fits may be written so, and not
                // an empty one ("ranges":[] is no list page at all, a different hypercall).
                if (r.ListPages.Length == 1 && r.ListPages[0].Length is > 0 and <= ProtectMemory.MaxRangesPerPage)
                {
                    json.WritePropertyName("ranges");
                    WriteRanges(json, r.ListPages[0]);
                }
                else
                {
                    json.WriteStartArray("list_pages");
                    foreach (var page in r.ListPages)
                        WriteRanges(json, page);
                    json.WriteEndArray();
                }

                break;
            case SetPermissionsRequest r:
                Op(json, "set_permissions", r.Vm);
                json.WriteNumber("start", r.Start);
                json.WriteNumber("end", r.End);
                json.WriteNumber("attr", r.Attr);
                break;
            case GetPermissionsRequest r:
                Op(json, "get_permissions", r.Vm);
                json.WriteNumber("gfn", r.Gfn);
                break;
            case SetMemoryAttributesRequest r:
                Op(json, "set_memory_attributes", r.Vm);
                json.WriteNumber("address", r.Address);
                json.WriteNumber("size", r.Size);
                json.WriteNumber("attributes", r.Attributes);
                json.WriteNumber("flags", r.Flags);
                break;
            case GetMemoryAttributesRequest r:
                Op(json, "get_memory_attributes", r.Vm);
                json.WriteNumber("gfn", r.Gfn);
                break;
            case AccessRequest r:
                Op(json, "access", r.Vm);
                json.WriteNumber("vcpu", r.Vcpu);
                json.WriteNumber("gpa", r.Gpa);
                json.WriteString("kind", r.Kind.Name());
                json.WriteNumber("cpl", r.Cpl);
                break;
            case LockCrRequest r:
                Op(json, "lock_cr", r.Vm);
                json.WriteNumber("vcpu", r.Vcpu);
                json.WriteNumber("cr", r.Cr);
                json.WriteNumber("pin", r.Pin);
                json.WriteNumber("flags", r.Flags);
                break;
            case WriteCrRequest r:
                Op(json, "write_cr", r.Vm);
                json.WriteNumber("vcpu", r.Vcpu);
                json.WriteNumber("cr", r.Cr);
                json.WriteNumber("value", r.Value);
                break;
            case ReadCrRequest r:
                Op(json, "read_cr", r.Vm);
                json.WriteNumber("vcpu", r.Vcpu);
                json.WriteNumber("cr", r.Cr);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request, "no replay form for this request");
        }
    }

    /// <summary>An <c>"observed"</c> field: the result's value in the result field's own JSON type.</summary>
    private static void WriteObserved(Utf8JsonWriter json, ReplayResult observed)
    {
        const string name = "observed";
        switch (observed)
        {
            case OkResult:
                json.WriteBoolean(name, true);
                break;
            case RetResult r:
                json.WriteNumber(name, r.Ret);
                break;
            case AttrResult r:
                json.WriteNumber(name, r.Attr);
                break;
            case AttributesResult r:
                json.WriteNumber(name, r.Attributes);
                break;
            case OutcomeResult r:
                json.WriteString(name, r.Result);
                break;
            case ValueResult r:
                json.WriteNumber(name, r.Value);
                break;
            case ErrorResult r:
                json.WriteString(name, r.Error);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(observed), observed, "unknown replay result");
        }
    }

    private static void Op(Utf8JsonWriter json, string op, string vm)
    {
        json.WriteString("op", op);
        json.WriteString("vm", vm);
    }

    private static void WriteRanges(Utf8JsonWriter json, MemoryRange[] ranges)
    {
        json.WriteStartArray();
        foreach (var range in ranges)
        {
            json.WriteStartObject();
            json.WriteNumber("pa", range.Pa);
            json.WriteNumber("epa", range.Epa);
            json.WriteNumber("perm", range.Permissions);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}

/// <summary>An extra field on a recorded line naming why it was made: <c>"Name":"Value"</c>, or <c>"Name":true</c> without a value.</summary>
public readonly record struct ReplayTag(string Name, string? Value = null);
