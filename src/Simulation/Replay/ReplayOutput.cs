using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HekiActors.Simulation.Replay;

/// <summary>Writes one output line per replayed request: <c>{"line":N,&lt;result field&gt;}</c> (replay-format.md).</summary>
public sealed class ReplayOutput(TextWriter writer)
{
    // Relaxed escaping keeps messages readable ('a' rather than \u0027a\u0027); the output is JSON, not HTML.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public void Write(long line, ReplayResult result) => writer.WriteLine(Format(line, result));

    /// <summary>The output line for a result; unsigned values print as plain integers, never quoted or with an exponent.</summary>
    public string Format(long line, ReplayResult result)
    {
        _buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_buffer, Options))
        {
            json.WriteStartObject();
            json.WriteNumber("line", line);
            WriteResult(json, result);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(_buffer.WrittenSpan);
    }

    /// <summary>
    /// A result's field as replay-format.md writes it (<c>"ok"</c>, <c>"ret"</c> with <c>host_integrity_faults</c> when
    /// heki-v2 overflowed the list-page buffer, <c>"attr"</c>, ...): the one writer of result fields, also used by the
    /// chaos acknowledgement log.
    /// </summary>
    public static void WriteResult(Utf8JsonWriter json, ReplayResult result)
    {
        switch (result)
        {
            case OkResult:
                json.WriteBoolean("ok", true);
                break;
            case RetResult r:
                json.WriteNumber("ret", r.Ret);
                // An extra field (the format allows them): heki-v2 overflowed the host's list-page buffer.
                if (r.HostIntegrityFaults > 0)
                    json.WriteNumber("host_integrity_faults", r.HostIntegrityFaults);
                break;
            case AttrResult a:
                json.WriteNumber("attr", a.Attr);
                break;
            case AttributesResult a:
                json.WriteNumber("attributes", a.Attributes);
                break;
            case OutcomeResult o:
                json.WriteString("result", o.Result);
                break;
            case ValueResult v:
                json.WriteNumber("value", v.Value);
                break;
            case ErrorResult e:
                json.WriteString("error", e.Error);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(result), result, "unknown replay result");
        }
    }
}
