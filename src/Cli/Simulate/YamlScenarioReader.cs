using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace HekiActors.Cli.Simulate;

/// <summary>Reads a YAML scenario file into a <see cref="ScenarioNode"/> tree through YamlDotNet's representation model.</summary>
/// <remarks>
/// The representation model (rather than a deserializer) keeps every node's position, so errors name the exact line,
/// and it leaves type resolution to us: plain scalars are resolved by the YAML 1.2 core schema, quoted ones are strings.
/// </remarks>
public static partial class YamlScenarioReader
{
    /// <summary>Parses <paramref name="text"/>; null for an empty document; a <see cref="UsageException"/> for malformed YAML.</summary>
    public static ScenarioNode? Read(string text, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new UsageException($"{fileName}:{e.Start.Line}: malformed YAML: {e.Message}");
        }

        if (stream.Documents.Count == 0)
        {
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start.Line;
            throw new UsageException($"{fileName}:{second}: a scenario file holds one YAML document, found a second one");
        }

        return Convert(stream.Documents[0].RootNode);
    }

    private static ScenarioNode Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new ScenarioMap(Line(map), map.Children
            .Select(kv => new ScenarioEntry(KeyText(kv.Key), Line(kv.Key), Convert(kv.Value)))
            .ToList()),
        YamlSequenceNode seq => new ScenarioList(Line(seq), seq.Children.Select(Convert).ToList()),
        YamlScalarNode scalar => new ScenarioScalar(Line(scalar), scalar.Value ?? "", Resolve(scalar)),
        _ => new ScenarioScalar(Line(node), node.ToString(), ScalarKind.String),
    };

    private static int Line(YamlNode node) => (int)node.Start.Line;

    // Complex keys (a mapping as a key) are legal YAML but never a known key; their text makes the "unknown key" error.
    private static string KeyText(YamlNode key) => key is YamlScalarNode s ? s.Value ?? "" : key.ToString();

    private static ScalarKind Resolve(YamlScalarNode scalar)
    {
        if (scalar.Style is not (YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any))
        {
            return ScalarKind.String;
        }

        var text = scalar.Value ?? "";
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
