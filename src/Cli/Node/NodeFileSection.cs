using System.Globalization;
using Akka.Configuration;

namespace HekiActors.Cli.Node;

/// <summary>
/// The <c>heki.node</c> section of a node's settings file, read strictly (docs/cluster.md): Akka's getters read a list
/// where a value belongs as nothing (<c>journal-connection = [a]</c> left a node on the in-memory journal), a misspelled
/// key is never read, and a value of the wrong type failed in .NET's words without its key. Every such value is a
/// <see cref="Problem"/> naming its key; a getter that finds one returns null, as if the file did not set it.
/// </summary>
internal sealed class NodeFileSection
{
    /// <summary>The settings of <c>heki.node</c>, as docs/cluster.md lists them.</summary>
    public static readonly IReadOnlyList<string> Keys =
        ["host", "public-host", "port", "seed-nodes", "roles", "journal", "journal-connection", "shards", "telemetry", "metrics-port"];

    private readonly Config _node;

    private NodeFileSection(Config node, string? problem)
    {
        _node = node;
        Problem = problem;
    }

    /// <summary>The first value found unusable, as <c>KEY: what is wrong</c> (e.g. <c>heki.node.port: must be an integer ...</c>); null while none is.</summary>
    public string? Problem { get; private set; }

    /// <summary>The section of <paramref name="file"/> (empty when it has none); <see cref="Problem"/> says when <c>heki</c> or <c>heki.node</c> is not a section or a key is not a setting.</summary>
    public static NodeFileSection Of(Config file)
    {
        if (!file.HasPath("heki"))
            return new NodeFileSection(Config.Empty, null);
        if (!file.GetValue("heki").IsObject())
            return Refused("heki: must be a section: heki.node { ... }");
        if (Items(file.GetConfig("heki")).FirstOrDefault(k => k != "node") is { } other)
            return Refused($"heki.{other}: is not a setting of heki node (its settings are in the section heki.node)");
        if (!file.HasPath("heki.node"))
            return new NodeFileSection(Config.Empty, null);
        if (!file.GetValue("heki.node").IsObject())
            return Refused("heki.node: must be a section: heki.node { port = 4053, ... }");
        var node = file.GetConfig("heki.node");
        if (Items(node).FirstOrDefault(k => !Keys.Contains(k)) is { } unknown)
            return Refused($"heki.node.{unknown}: is not a setting (heki.node's settings: {string.Join(", ", Keys)})");
        return new NodeFileSection(node, null);
    }

    /// <summary>A single value (null when the file does not set it).</summary>
    public string? Text(string key)
    {
        if (Problem is not null || !_node.HasPath(key))
            return null;
        var value = _node.GetValue(key);
        if (value.IsArray() || value.IsObject())
            return Refuse(key, "must be a single value, not a list or a section");
        // An empty text is no value either ("telemetry = \"\"" ran without telemetry, as "--telemetry ''" did).
        return value.GetString() is { } text && !string.IsNullOrWhiteSpace(text) ? text : Refuse(key, "must have a value, got an empty one");
    }

    /// <summary>An integer (null when the file does not set it); its range is checked with the options' (<paramref name="range"/> only names it).</summary>
    public int? Int(string key, string range)
    {
        if (Text(key) is not { } text)
            return null;
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            return value;
        Refuse(key, $"must be an integer {range}, got '{Input.HoconFile.Excerpt(text, 40)}'");
        return null;
    }

    /// <summary>A list of single values (null when the file does not set it).</summary>
    public IReadOnlyList<string>? List(string key)
    {
        if (Problem is not null || !_node.HasPath(key))
            return null;
        var value = _node.GetValue(key);
        var problem = !value.IsArray() ? $"must be a list in brackets, e.g. {key} = [\"...\"]"
            : value.GetArray().Any(element => element.IsArray() || element.IsObject()) ? "must be a list of single values"
            : null;
        if (problem is null)
            return [.. _node.GetStringList(key)];
        Refuse(key, problem);
        return null;
    }

    private static NodeFileSection Refused(string problem) => new(Config.Empty, problem);

    private string? Refuse(string key, string what)
    {
        Problem ??= $"heki.node.{key}: {what}";
        return null;
    }

    private static IEnumerable<string> Items(Config section) => section.Root?.GetObject()?.Items.Keys ?? Enumerable.Empty<string>();
}
