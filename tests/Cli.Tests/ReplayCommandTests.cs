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
        var error = new StringWriter();
        result.InvocationConfiguration.Error = error;

        Assert.Equal(ExitCodes.Usage, Program.Run(result));
        Assert.StartsWith("heki replay: --profile must be hardened or heki-v2, got 'lenient'\n", error.ToString());
    }
}

public class CommandLineUsageTests
{
    [Theory]
    [InlineData("replay", "--profile", "nonsense")]
    [InlineData("replay", "--no-such-option")]
    [InlineData("no-such-command")]
    public void A_command_line_that_cannot_be_parsed_exits_2_and_runs_nothing(params string[] args)
    {
        var parse = HekiActors.Cli.Program.BuildRoot().Parse(args);
        var output = new StringWriter();
        parse.InvocationConfiguration.Output = output;
        parse.InvocationConfiguration.Error = output;
        Assert.Equal(2, HekiActors.Cli.Program.Run(parse));
        Assert.DoesNotContain("\"line\"", output.ToString());
    }
}
