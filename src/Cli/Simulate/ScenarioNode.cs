namespace HekiActors.Cli.Simulate;

/// <summary>A scenario file's parsed tree, the same for YAML and JSON, with the line each node starts on.</summary>
/// <remarks>
/// Both readers produce this tree so that one validator checks keys and values and words its errors the same way
/// whatever the file's format; lines are 1-based and exact because each reader takes them from its own parser.
/// </remarks>
public abstract record ScenarioNode(int Line)
{
    /// <summary>How the node reads in an error message's "got ...".</summary>
    public abstract string Describe();

    /// <summary>Longest excerpt of a value or key quoted back in a message.</summary>
    public const int ExcerptLength = 40;

    /// <summary>Longest parser message passed on (YamlDotNet and System.Text.Json quote the input they stopped at).</summary>
    public const int ParserMessageLength = 200;

    /// <summary>
    /// <paramref name="text"/> as a message quotes it: control characters escaped so the message stays on one line,
    /// cut after <see cref="ExcerptLength"/> characters so a megabyte-long value cannot flood the terminal.
    /// </summary>
    public static string Excerpt(string text, int maxLength = ExcerptLength)
    {
        // Bounded after escaping: a control character shows as six ("\u000a"), and a run of them must not make a
        // one-line message kilobytes long.
        var builder = new System.Text.StringBuilder(Math.Min(text.Length, maxLength) + 8);
        var shown = 0;
        foreach (var c in text)
        {
            var part = char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString();
            if (builder.Length + part.Length > maxLength)
                break;
            builder.Append(part);
            shown++;
        }

        return shown < text.Length ? builder + "..." : builder.ToString();
    }
}

/// <summary>A mapping: keys in file order, each with the line the key is on.</summary>
public sealed record ScenarioMap(int Line, IReadOnlyList<ScenarioEntry> Entries) : ScenarioNode(Line)
{
    public override string Describe() => "a mapping";
}

/// <summary>One key of a <see cref="ScenarioMap"/> and its value.</summary>
public sealed record ScenarioEntry(string Key, int KeyLine, ScenarioNode Value);

/// <summary>A sequence of nodes.</summary>
public sealed record ScenarioList(int Line, IReadOnlyList<ScenarioNode> Items) : ScenarioNode(Line)
{
    public override string Describe() => "a list";
}

/// <summary>What a scalar is, resolved by its reader (YAML core schema for plain scalars, JSON token types).</summary>
public enum ScalarKind
{
    Null,
    Bool,
    Integer,
    Float,
    String,
}

/// <summary>A scalar with its source text and resolved kind.</summary>
public sealed record ScenarioScalar(int Line, string Text, ScalarKind Kind) : ScenarioNode(Line)
{
    public override string Describe() => Kind switch
    {
        ScalarKind.Null => "nothing",
        // Quotes make "3" (a string) distinguishable from 3 (a number) in the message.
        ScalarKind.String => "\"" + Excerpt(Text) + "\"",
        _ => Excerpt(Text),
    };
}
