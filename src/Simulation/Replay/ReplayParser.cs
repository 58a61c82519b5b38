using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Simulation.Replay;

/// <summary>
/// Parses one replay line (replay-format.md) into a typed <see cref="ReplayRequest"/>, or an error message that
/// names the problem. Checks only the shape of the request; the model judges its meaning.
/// </summary>
public static class ReplayParser
{
    /// <summary>Most vCPUs a create_vm may ask for: KVM's limit, as in <c>heki simulate</c>, so every recording replays.</summary>
    public const int MaxVcpus = VmConfig.MaxVcpus;

    /// <summary>Most MiB of guest memory: 2^44 MiB is 2^64 bytes, the whole guest physical address space.</summary>
    public const ulong MaxMemoryMb = VmConfig.MaxMemoryMb;

    /// <summary>Control registers CR0..CR15 exist (the vCPU rejects the others with its own message).</summary>
    private const ulong MaxCr = 15;

    /// <summary>Longest excerpt of an offending value quoted back in a message.</summary>
    private const int ExcerptLength = 40;

    /// <summary>Blank lines and lines whose first non-blank character is <c>#</c> produce no output.</summary>
    public static bool IsSkipped(string line)
    {
        var text = line.AsSpan().TrimStart();
        return text.IsEmpty || text[0] == '#';
    }

    /// <summary>
    /// <see cref="IsSkipped(string)"/> on a line's UTF-8 bytes: white space as <see cref="char.IsWhiteSpace(char)"/> sees
    /// it, then <c>#</c> or nothing. A comment is skipped whatever bytes follow the <c>#</c>: it is never decoded.
    /// </summary>
    public static bool IsSkipped(ReadOnlySpan<byte> line)
    {
        while (!line.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(line, out var rune, out var consumed) != OperationStatus.Done || !Rune.IsWhiteSpace(rune))
                return line[0] == (byte)'#';
            line = line[consumed..];
        }

        return true;
    }

    /// <summary>Parses one line given as text (tests, and callers that already hold strings).</summary>
    public static ParsedLine Parse(string line) => Parse(Encoding.UTF8.GetBytes(line));

    /// <summary>
    /// Parses one line's UTF-8 bytes. Invalid UTF-8 is the line's error, never replaced by U+FFFD: two VM ids that
    /// differ only in invalid bytes must not name the same VM. <paramref name="utf8"/> is only read during the call.
    /// </summary>
    public static ParsedLine Parse(ReadOnlyMemory<byte> utf8)
    {
        if (!Utf8.IsValid(utf8.Span))
            return ParsedLine.Bad(InvalidUtf8(utf8.Span));
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8);
        }
        catch (JsonException)
        {
            return ParsedLine.Bad("line is not valid JSON");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return ParsedLine.Bad("line is not a JSON object");
            try
            {
                return ParsedLine.Of(ParseRequest(Fields.Of(document.RootElement, "")));
            }
            catch (BadFieldException ex)
            {
                return ParsedLine.Bad(ex.Message);
            }
        }
    }

    /// <summary>The message for a line of <see cref="ReplayLineReader.MaxLineBytes"/> bytes or more.</summary>
    public static string TooLong(int maxLineBytes) =>
        $"line is longer than {maxLineBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes (the replay format's limit); it was skipped";

    /// <summary>Names the first byte that is not UTF-8, by its 1-based offset in the line.</summary>
    private static string InvalidUtf8(ReadOnlySpan<byte> line)
    {
        var offset = 0;
        while (Rune.DecodeFromUtf8(line[offset..], out _, out var consumed) == OperationStatus.Done)
            offset += consumed;
        return offset < line.Length
            ? $"line is not valid UTF-8 (byte 0x{line[offset]:X2} at byte {(offset + 1).ToString(CultureInfo.InvariantCulture)})"
            : "line is not valid UTF-8";
    }

    private static ReplayRequest ParseRequest(Fields f)
    {
        var op = f.String("op");
        return op switch
        {
            "create_vm" => new CreateVmRequest(f.String("vm"),
                f.Bounded("memory_mb", 1, MaxMemoryMb), (int)f.Bounded("vcpus", 1, MaxVcpus),
                f.Bool("mbec", true), f.Bool("private_mem", false)),
            "destroy_vm" => new DestroyVmRequest(f.String("vm")),
            "protect" => new ProtectRequest(f.String("vm"), f.Vcpu(), ListPages(f), f.Cpl()),
            "set_permissions" => new SetPermissionsRequest(f.String("vm"), f.U64("start"), f.U64("end"), f.U64("attr")),
            "get_permissions" => new GetPermissionsRequest(f.String("vm"), f.U64("gfn")),
            "set_memory_attributes" => new SetMemoryAttributesRequest(f.String("vm"),
                f.U64("address"), f.U64("size"), f.U64("attributes"), f.U64("flags")),
            "get_memory_attributes" => new GetMemoryAttributesRequest(f.String("vm"), f.U64("gfn")),
            "access" => new AccessRequest(f.String("vm"), f.Vcpu(), f.U64("gpa"), f.Kind(), f.Cpl()),
            "lock_cr" => new LockCrRequest(f.String("vm"), f.Vcpu(), f.U64("cr"), f.U64("pin"), f.U64("flags")),
            "write_cr" => new WriteCrRequest(f.String("vm"), f.Vcpu(), f.Cr(), f.U64("value")),
            "read_cr" => new ReadCrRequest(f.String("vm"), f.Vcpu(), f.Cr()),
            _ => throw new BadFieldException($"unknown op {Quote(op)}"),
        };
    }

    /// <summary>Either <c>ranges</c>, packed by the guest into list pages of 169, or <c>list_pages</c> as given.</summary>
    private static MemoryRange[][] ListPages(Fields f)
    {
        var ranges = f.Optional("ranges");
        var listPages = f.Optional("list_pages");
        if (ranges is not null && listPages is not null)
            throw new BadFieldException("fields \"ranges\" and \"list_pages\" must not both be given");
        if (ranges is { } packed)
            return [.. Ranges(packed, "ranges").Chunk(ProtectMemory.MaxRangesPerPage)];
        if (listPages is not { } pages)
            throw new BadFieldException("missing field \"ranges\" (or \"list_pages\")");
        if (pages.ValueKind != JsonValueKind.Array)
            throw new BadFieldException($"field \"list_pages\" must be an array of arrays, got {Excerpt(pages)}");
        var result = new MemoryRange[pages.GetArrayLength()][];
        var i = 0;
        foreach (var page in pages.EnumerateArray())
        {
            result[i] = Ranges(page, $"list_pages[{i}]");
            i++;
        }

        return result;
    }

    private static MemoryRange[] Ranges(JsonElement array, string where)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new BadFieldException($"{FieldName(where)} must be an array of ranges, got {Excerpt(array)}");
        var length = array.GetArrayLength();
        if (length == 0)
            return []; // shared: a 16 MiB line of empty list pages must not cost a new array per page
        var result = new MemoryRange[length];
        var i = 0;
        foreach (var element in array.EnumerateArray())
        {
            var at = $"{where}[{i}]";
            if (element.ValueKind != JsonValueKind.Object)
                throw new BadFieldException($"{at} must be an object {{\"pa\",\"epa\",\"perm\"}}, got {Excerpt(element)}");
            var range = Fields.Of(element, at);
            result[i] = new MemoryRange(range.U64("pa"), range.U64("epa"), range.U64("perm"));
            i++;
        }

        return result;
    }

    // "ranges" names a field; "list_pages[1]" names an element.
    private static string FieldName(string where) => where.Contains('[') ? where : $"field \"{where}\"";

    /// <summary>
    /// A name as the line spelled it, in double quotes, cut short; control characters (a decoded <c>\n</c>) are written
    /// back as JSON escapes, so an error stays one line in any sink, not only in the JSON output.
    /// </summary>
    private static string Quote(string text) =>
        "\"" + Printable.Escape(text.Length <= ExcerptLength ? text : text[..ExcerptLength] + "...") + "\"";

    /// <summary>The offending value as written, cut short.</summary>
    private static string Excerpt(JsonElement element)
    {
        var raw = element.GetRawText();
        return raw.Length <= ExcerptLength ? raw : raw[..ExcerptLength] + "...";
    }

    /// <summary>An object's fields by name, refusing duplicates; <c>where</c> locates a nested object in messages.</summary>
    private readonly struct Fields
    {
        private readonly Dictionary<string, JsonElement> _fields;
        private readonly string _where;

        private Fields(Dictionary<string, JsonElement> fields, string where)
        {
            _fields = fields;
            _where = where;
        }

        public static Fields Of(JsonElement element, string where)
        {
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                var name = Unescaped(() => property.Name, $"a field name{In(where)}");
                // JSON leaves duplicates' meaning open: refuse rather than guess which one a trace meant.
                if (!fields.TryAdd(name, property.Value))
                    throw new BadFieldException($"duplicate field {Quote(name)}{In(where)}");
            }

            return new Fields(fields, where);
        }

        private static string In(string where) => where.Length == 0 ? "" : " in " + where;

        private string Name(string name) => $"field {Quote(name)}{In(_where)}";

        public JsonElement? Optional(string name) => _fields.TryGetValue(name, out var value) ? value : null;

        private JsonElement Required(string name) =>
            _fields.TryGetValue(name, out var value)
                ? value
                : throw new BadFieldException($"missing field {Quote(name)}{In(_where)}");

        public string String(string name)
        {
            var value = Required(name);
            return value.ValueKind == JsonValueKind.String
                ? Unescaped(() => value.GetString()!, Name(name))
                : throw new BadFieldException($"{Name(name)} must be a string, got {Excerpt(value)}");
        }

        /// <summary>A string's text; JSON allows a lone surrogate escape (\ud800) that .NET cannot turn into a string.</summary>
        public static string Unescaped(Func<string> read, string what)
        {
            try
            {
                return read();
            }
            catch (InvalidOperationException)
            {
                throw new BadFieldException($"{what} is not valid Unicode (a lone surrogate escape)");
            }
        }

        public bool Bool(string name, bool absent) => Optional(name) switch
        {
            null => absent,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            { } value => throw new BadFieldException($"{Name(name)} must be a boolean, got {Excerpt(value)}"),
        };

        /// <summary>A JSON integer in 0..2^64-1: a float, boolean, string, negative or larger number is refused.</summary>
        public ulong U64(string name) =>
            TryU64(Required(name), out var result)
                ? result
                : throw new BadFieldException($"{Name(name)} must be an unsigned 64-bit integer, got {Excerpt(Required(name))}");

        public ulong Bounded(string name, ulong min, ulong max) => Bounded(name, Required(name), min, max);

        private ulong Bounded(string name, JsonElement value, ulong min, ulong max) =>
            TryU64(value, out var result) && result >= min && result <= max
                ? result
                : throw new BadFieldException($"{Name(name)} must be an integer in {min}..{max}, got {Excerpt(value)}");

        public int Vcpu() => (int)Bounded("vcpu", 0, MaxVcpus - 1);

        public byte Cpl() => Optional("cpl") is { } cpl ? (byte)Bounded("cpl", cpl, 0, 3) : (byte)0;

        /// <summary>CR numbers beyond int are refused here; CR16.. reach the vCPU, which names them itself.</summary>
        public int Cr()
        {
            var value = Required("cr");
            return TryU64(value, out var cr) && cr <= int.MaxValue
                ? (int)cr
                : throw new BadFieldException($"{Name("cr")} must be an integer in 0..{MaxCr}, got {Excerpt(value)}");
        }

        public AccessKind Kind()
        {
            var value = Required("kind");
            return value.ValueKind == JsonValueKind.String && AccessKinds.TryParse(Unescaped(() => value.GetString()!, Name("kind")), out var kind)
                ? kind
                : throw new BadFieldException($"{Name("kind")} must be one of \"read\", \"write\", \"exec\", got {Excerpt(value)}");
        }

        private static bool TryU64(JsonElement value, out ulong result)
        {
            result = 0;
            if (value.ValueKind != JsonValueKind.Number)
                return false;
            // The raw text decides: 1.0 and 1e0 are floats even though their value is whole; -0 is negative.
            var raw = value.GetRawText();
            foreach (var c in raw)
            {
                if (c is < '0' or > '9')
                    return false;
            }

            return ulong.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out result);
        }
    }

    /// <summary>Thrown inside the parser for the first problem found; becomes the line's error message.</summary>
    private sealed class BadFieldException(string message) : Exception(message);
}
