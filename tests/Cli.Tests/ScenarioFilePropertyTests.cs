using System.Text;
using CsCheck;
using HekiActors.Cli.Simulate;
using HekiActors.Tests.Shared;

namespace HekiActors.Cli.Tests;

/// <summary>
/// issue 8, item 8: the scenario reader answers every file. 10,000 random and 10,000 mutated files (of the shipped
/// scenarios, YAML and JSON): each is a scenario or one usage error of the form <c>file:line: message</c> or
/// <c>file: message</c>, no other exception escapes, and the memory a file costs is bounded by its size.
/// </summary>
public sealed class ScenarioFilePropertyTests
{
    private const int Iterations = 10_000;

    private static readonly string[] YamlSyntax =
    [
        ":", ": ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "! ", "!custom ", "---\n", "...\n", "? ", "|\n", ">\n",
        "'", "\"", "\t", "\n", "  ", "# c\n", "%YAML 1.2\n", "vms", "workload", "attacks", "telemetry", "exporters", "read",
        "locality", "duration", "20s", "1m30s", "0.5ms", "true", "null", "~", "\u00e9", "\\u0000",
    ];

    private static readonly string[] JsonSyntax =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\ud800", "\\u0000", "//", "/*", "*/", "true", "false", "null", " ", "\n",
        "\"vms\"", "\"workload\"", "\"attacks\"", "\"read\"", "\"locality\"", "\"duration\"", "\"20s\"", "\u00e9",
    ];

    private static readonly byte[][] YamlCorpus = Shipped("*.yaml");

    private static readonly byte[][] JsonCorpus = Shipped("*.json");

    [Fact]
    public void Random_yaml_files_are_a_scenario_or_one_usage_error() =>
        InputMutations.Random(YamlSyntax).Sample(bytes => AnswersOnce(bytes, "random.yaml"), iter: Iterations);

    [Fact]
    public void Random_json_files_are_a_scenario_or_one_usage_error() =>
        InputMutations.Random(JsonSyntax).Sample(bytes => AnswersOnce(bytes, "random.json"), iter: Iterations);

    [Fact]
    public void Mutated_yaml_scenarios_are_a_scenario_or_one_usage_error() =>
        InputMutations.Mutated(YamlCorpus, YamlSyntax).Sample(bytes => AnswersOnce(bytes, "mutated.yaml"), iter: Iterations);

    [Fact]
    public void Mutated_json_scenarios_are_a_scenario_or_one_usage_error() =>
        InputMutations.Mutated(JsonCorpus, JsonSyntax).Sample(bytes => AnswersOnce(bytes, "mutated.json"), iter: Iterations);

    [Fact]
    public void The_shipped_scenarios_are_in_the_corpus_and_valid()
    {
        Assert.True(YamlCorpus.Length >= 3 && JsonCorpus.Length >= 1);
        Assert.All(YamlCorpus, bytes => ScenarioFile.Parse(bytes, "shipped.yaml"));
        Assert.All(JsonCorpus, bytes => ScenarioFile.Parse(bytes, "shipped.json"));
    }

    /// <summary>The properties every file's answer has: a scenario that passes or fails the limits, or one usage error.</summary>
    private static void AnswersOnce(byte[] bytes, string name)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Scenario? scenario = null;
        try
        {
            scenario = ScenarioFile.Parse(bytes, name);
        }
        catch (UsageException e)
        {
            Assert.StartsWith(name + ":", e.Message, StringComparison.Ordinal);
            OneLine(e.Message);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Decoding (a few bytes per byte) and at most 10,000 values of a few hundred bytes each: nothing expands
        // (aliases are refused), and a file of a million tiny values stops at the 10,001st.
        Assert.True(allocated <= (8 << 20) + 16L * bytes.Length, $"{allocated:N0} bytes allocated for a {bytes.Length:N0}-byte file");
        if (scenario is null)
            return;
        try
        {
            // The checks of the merged scenario judge whatever a file can set; they never crash either.
            ScenarioLimits.Check(scenario, availableBytes: 8L << 30);
        }
        catch (UsageException e)
        {
            OneLine(e.Message);
        }
    }

    private static void OneLine(string message)
    {
        Assert.False(message.Contains('\n') || message.Contains('\r'), message);
        Assert.InRange(message.Length, 20, 500);
    }

    /// <summary>The scenario files the repository ships (scenarios/), found from the test's folder.</summary>
    private static byte[][] Shipped(string pattern)
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "HekiActors.sln")))
            folder = folder.Parent;
        Assert.NotNull(folder);
        return Directory.GetFiles(Path.Combine(folder.FullName, "scenarios"), pattern).Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes).ToArray();
    }
}
