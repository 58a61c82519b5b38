using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace HekiActors.Cli.Simulate;

/// <summary>Reads a YAML scenario file into a <see cref="ScenarioNode"/> tree from YamlDotNet's parser events.</summary>
/// <remarks>
/// The tree is built from the event stream with an explicit stack, not through YamlDotNet's representation model,
/// because the model recurses once per nesting level (10,000 nested flow mappings overflow the stack) and expands
/// aliases by walking shared nodes (a 600-byte "billion laughs" file becomes gigabytes). Here nesting stops at
/// <see cref="ScenarioFile.MaxDepth"/> and anchors, aliases and tags are refused: a scenario needs none of them.
/// Every node keeps the line it starts on; plain scalars are typed by the YAML 1.2 core schema, quoted ones are strings.
/// </remarks>
public static partial class YamlScenarioReader
{
    /// <summary>Parses <paramref name="text"/>; null for an empty document; a <see cref="UsageException"/> for malformed YAML.</summary>
    public static ScenarioNode? Read(string text, string fileName)
    {
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        var parser = new Parser(scanner);
        var tree = new TreeBuilder(fileName);
        var documents = 0;
        while (Next(parser, scanner, text, fileName) is { } ev)
        {
            switch (ev)
            {
                case DocumentStart when ++documents > 1:
                    throw new UsageException($"{fileName}:{ev.Start.Line}: a scenario file holds one YAML document, found a second one");
                case AnchorAlias alias:
                    throw new UsageException($"{fileName}:{ev.Start.Line}: YAML aliases (*{ScenarioNode.Excerpt(alias.Value.ToString())}) are not supported in scenario files");
                case NodeEvent { Anchor.IsEmpty: false } node:
                    throw new UsageException($"{fileName}:{ev.Start.Line}: YAML anchors (&{ScenarioNode.Excerpt(node.Anchor.ToString())}) are not supported in scenario files");
                case NodeEvent { Tag.IsEmpty: false } node:
                    throw new UsageException($"{fileName}:{ev.Start.Line}: YAML tags ({ScenarioNode.Excerpt(node.Tag.ToString())}) are not supported in scenario files");
                case MappingStart:
                    tree.Open(Line(ev), isMap: true);
                    break;
                case SequenceStart:
                    tree.Open(Line(ev), isMap: false);
                    break;
                case MappingEnd or SequenceEnd:
                    tree.Close();
                    break;
                case Scalar scalar:
                    tree.Add(new ScenarioScalar(Line(ev), scalar.Value, Resolve(scalar)));
                    break;
            }
        }

        return tree.Root;
    }

    /// <summary>The parser's next event, or null at the end; any failure inside YamlDotNet is malformed input at a line.</summary>
    private static ParsingEvent? Next(Parser parser, Scanner scanner, string text, string fileName)
    {
        try
        {
            return parser.MoveNext() ? parser.Current : null;
        }
        catch (YamlException e)
        {
            // YamlDotNet's words for a key over YAML's limit ("Did not find expected <document start>") name neither
            // the key nor the limit: say both, at the key's line.
            if (LongKey(text, e.Start.Line) is { } key)
                throw new UsageException($"{fileName}:{key.Line}: malformed YAML: a key of {key.Length:N0} characters ('{ScenarioNode.Excerpt(key.Start)}'): " +
                    $"YAML allows at most {MaxImplicitKeyLength:N0} in a key");
            throw new UsageException($"{fileName}:{e.Start.Line}: malformed YAML: {ScenarioNode.Excerpt(e.Message, ScenarioNode.ParserMessageLength)}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // YamlDotNet's scanner throws plain exceptions on some malformed input (an unclosed flow sequence followed
            // by a key throws InvalidOperationException): only its code runs here, so it is the file that is wrong.
            throw new UsageException($"{fileName}:{scanner.CurrentPosition.Line}: malformed YAML: the parser cannot read on from here");
        }
    }

    /// <summary>YAML 1.2's limit on an implicit key (<c>key: value</c>), which YamlDotNet enforces.</summary>
    private const int MaxImplicitKeyLength = 1024;

    /// <summary>The first line up to <paramref name="errorLine"/> whose <c>key:</c> is longer than YAML allows, if any.</summary>
    private static (long Line, int Length, string Start)? LongKey(string text, long errorLine)
    {
        long line = 1;
        var start = 0;
        while (start <= text.Length && line <= errorLine)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
                end = text.Length;
            var content = text.AsSpan(start, end - start).TrimStart(" -");
            var colon = content.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0 && content.TrimEnd().EndsWith(':'))
                colon = content.TrimEnd().Length - 1;
            if (colon > MaxImplicitKeyLength)
                return (line, colon, content[..(ScenarioNode.ExcerptLength + 1)].ToString());
            start = end + 1;
            line++;
        }

        return null;
    }

    private static int Line(ParsingEvent ev) => (int)Math.Min(ev.Start.Line, int.MaxValue);

    /// <summary>Builds the tree bottom-up: each finished node goes into the collection still open above it.</summary>
    private sealed class TreeBuilder(string fileName)
    {
        private readonly Stack<Frame> _open = new();
        private int _values;

        public ScenarioNode? Root { get; private set; }

        public void Open(int line, bool isMap)
        {
            Count(line);
            if (_open.Count >= ScenarioFile.MaxDepth)
            {
                throw new UsageException($"{fileName}:{line}: nesting deeper than {ScenarioFile.MaxDepth} levels");
            }

            _open.Push(new Frame(line, isMap));
        }

        public void Close()
        {
            var frame = _open.Pop();
            Attach(frame.IsMap ? new ScenarioMap(frame.Line, frame.Entries) : new ScenarioList(frame.Line, frame.Items));
        }

        /// <summary>A scalar, counted as a value.</summary>
        public void Add(ScenarioScalar scalar)
        {
            Count(scalar.Line);
            Attach(scalar);
        }

        private void Count(int line)
        {
            if (++_values > ScenarioFile.MaxValues)
            {
                throw ScenarioFile.TooManyValues(fileName, line);
            }
        }

        private void Attach(ScenarioNode node)
        {
            if (!_open.TryPeek(out var parent))
            {
                Root = node;
            }
            else if (!parent.IsMap)
            {
                parent.Items.Add(node);
            }
            else if (parent.PendingKey is not { } key)
            {
                // Complex keys (a mapping as a key) are legal YAML but never a known key: they only make an "unknown key" error.
                parent.PendingKey = (node is ScenarioScalar s ? s.Text : "(" + node.Describe() + ")", node.Line);
            }
            else
            {
                parent.Entries.Add(new ScenarioEntry(key.Text, key.Line, node));
                parent.PendingKey = null;
            }
        }

        private sealed class Frame(int line, bool isMap)
        {
            public int Line { get; } = line;
            public bool IsMap { get; } = isMap;
            public List<ScenarioEntry> Entries { get; } = [];
            public List<ScenarioNode> Items { get; } = [];
            public (string Text, int Line)? PendingKey { get; set; }
        }
    }

    private static ScalarKind Resolve(Scalar scalar)
    {
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            return ScalarKind.String;
        }

        var text = scalar.Value;
        if (text is "" or "~" or "null" or "Null" or "NULL")
        {
            return ScalarKind.Null;
        }

        if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return ScalarKind.Bool;
        }

        if (IntegerPattern().IsMatch(text))
        {
            return ScalarKind.Integer;
        }

        return FloatPattern().IsMatch(text) ? ScalarKind.Float : ScalarKind.String;
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();
}
