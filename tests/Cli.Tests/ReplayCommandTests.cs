using System.CommandLine;

namespace HekiActors.Cli.Tests;

public class ReplayCommandTests
{
    [Fact]
    public void Replay_defaults_to_stdin_and_the_hardened_profile()
    {
        var result = Program.BuildRoot().Parse(["replay"]);

        Assert.Empty(result.Errors);
        Assert.Equal("-", result.GetValue<string>("FILE"));
        Assert.Equal("hardened", result.GetValue<string>("--profile"));
    }

    [Fact]
    public void Replay_takes_a_file_and_the_heki_v2_profile()
    {
        var result = Program.BuildRoot().Parse(["replay", "trace.jsonl", "--profile", "heki-v2"]);

        Assert.Empty(result.Errors);
        Assert.Equal("trace.jsonl", result.GetValue<string>("FILE"));
        Assert.Equal("heki-v2", result.GetValue<string>("--profile"));
    }

    [Fact]
    public void An_unknown_profile_is_a_usage_error()
    {
        var result = Program.BuildRoot().Parse(["replay", "--profile", "lenient"]);

        Assert.NotEmpty(result.Errors);
    }
}
