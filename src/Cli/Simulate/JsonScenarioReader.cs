using System.Text;
using System.Text.Json;

namespace HekiActors.Cli.Simulate;

/// <summary>Reads a JSON scenario file into a <see cref="ScenarioNode"/> tree with each token's line.</summary>
/// <remarks>
/// <see cref="JsonDocument"/> keeps no positions, so the tree is built from <see cref="Utf8JsonReader"/> tokens and each
/// token's byte offset is mapped to its line. Comments and trailing commas are allowed: scenario files are hand-edited.
/// </remarks>
public static class JsonScenarioReader
{
    private static readonly JsonReaderOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = ScenarioFile.MaxDepth,
    };

    /// <summary>Parses UTF-8 <paramref name="bytes"/> (without a byte order mark); null for an empty file; a <see cref="UsageException"/> for malformed JSON.</summary>
    public static ScenarioNode? Read(byte[] bytes, string fileName)
    {
        if (bytes.AsSpan().IndexOfAnyExcept(" \t\r\n"u8) < 0)
        {
            return null;
        }

        var lines = new LineMap(bytes);
        var reader = new Utf8JsonReader(bytes, Options);
        try
        {
            if (!reader.Read())
            {
                return null;
            }

            var values = 0;
            var root = ReadValue(ref reader, lines, fileName, ref values);
            if (reader.Read())
            {
                throw new UsageException($"{fileName}:{lines.LineOf(reader.TokenStartIndex)}: malformed JSON: more data after the scenario object");
            }

            return root;
        }
        catch (JsonException e)
        {
            // JsonException counts lines from 0; its message repeats the position, which our prefix already gives.
            var line = (e.LineNumber ?? 0) + 1;
            var message = e.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }

            throw new UsageException($"{fileName}:{line}: malformed JSON: {ScenarioNode.Excerpt(message, ScenarioNode.ParserMessageLength)}");
        }
    }

    private static ScenarioNode ReadValue(ref Utf8JsonReader reader, LineMap lines, string fileName, ref int values)
    {
        var line = lines.LineOf(reader.TokenStartIndex);
        if (++values > ScenarioFile.MaxValues)
        {
            throw ScenarioFile.TooManyValues(fileName, line);
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                var entries = new List<ScenarioEntry>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var keyLine = lines.LineOf(reader.TokenStartIndex);
                    if (++values > ScenarioFile.MaxValues)
                    {
                        throw ScenarioFile.TooManyValues(fileName, keyLine);
                    }

                    var key = Text(ref reader, keyLine, fileName);
                    if (!seen.Add(key))
                    {
                        // JSON leaves duplicates undefined; YAML forbids them. Refuse both rather than guess which wins.
                        throw new UsageException($"{fileName}:{keyLine}: duplicate key \"{ScenarioNode.Excerpt(key)}\"");
                    }

                    reader.Read();
                    entries.Add(new ScenarioEntry(key, keyLine, ReadValue(ref reader, lines, fileName, ref values)));
                }

                return new ScenarioMap(line, entries);
            }

            case JsonTokenType.StartArray:
            {
                var items = new List<ScenarioNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader, lines, fileName, ref values));
                }

                return new ScenarioList(line, items);
            }

            case JsonTokenType.String:
                return new ScenarioScalar(line, Text(ref reader, line, fileName), ScalarKind.String);
            case JsonTokenType.Number:
            {
                var raw = Encoding.UTF8.GetString(reader.ValueSpan);
                var isFloat = raw.AsSpan().IndexOfAny(".eE") >= 0;
                return new ScenarioScalar(line, raw, isFloat ? ScalarKind.Float : ScalarKind.Integer);
            }

            case JsonTokenType.True:
                return new ScenarioScalar(line, "true", ScalarKind.Bool);
            case JsonTokenType.False:
                return new ScenarioScalar(line, "false", ScalarKind.Bool);
            default:
                return new ScenarioScalar(line, "null", ScalarKind.Null);
        }
    }

    /// <summary>A string token's text; JSON allows a lone surrogate escape (\ud800) that .NET cannot turn into a string.</summary>
    private static string Text(ref Utf8JsonReader reader, int line, string fileName)
    {
        try
        {
            return reader.GetString() ?? "";
        }
        catch (InvalidOperationException)
        {
            throw new UsageException($"{fileName}:{line}: malformed JSON: a string is not valid Unicode (a lone surrogate escape)");
        }
    }

    /// <summary>Byte offset → 1-based line, by binary search over the offsets where lines start.</summary>
    private sealed class LineMap
    {
        private readonly List<long> _starts = [0];

        public LineMap(byte[] bytes)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'\n')
                {
                    _starts.Add(i + 1);
                }
            }
        }

        public int LineOf(long offset)
        {
            var index = _starts.BinarySearch(offset);
            return (index >= 0 ? index : ~index - 1) + 1;
        }
    }
}
