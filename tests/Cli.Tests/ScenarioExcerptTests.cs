using HekiActors.Cli.Simulate;

namespace HekiActors.Cli.Tests;

/// <summary>How a scenario error quotes the file: one line, bounded after escaping (a property test found a 1,070-character message).</summary>
public sealed class ScenarioExcerptTests
{
    [Fact]
    public void A_run_of_control_characters_is_escaped_and_the_quote_stays_within_its_length()
    {
        var text = "t2,\n  \"accesses_per_vcpu\": 200000" + new string('\n', 500);

        var quoted = ScenarioNode.Excerpt(text, ScenarioNode.ParserMessageLength);

        Assert.StartsWith("t2,\\u000a  \"accesses_per_vcpu\": 200000\\u000a", quoted);
        Assert.EndsWith("...", quoted);
        Assert.True(quoted.Length <= ScenarioNode.ParserMessageLength + 3, $"{quoted.Length} characters");
        Assert.DoesNotContain('\n', quoted);
    }

    [Fact]
    public void A_short_text_is_quoted_whole()
    {
        Assert.Equal("vms: \\u0009300", ScenarioNode.Excerpt("vms: \t300"));
    }
}
