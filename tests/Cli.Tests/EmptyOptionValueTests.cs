using System.CommandLine;

namespace HekiActors.Cli.Tests;

/// <summary>
/// An empty value for an option that takes one (<c>--telemetry ""</c>, a shell variable that expanded to nothing) is a
/// usage error naming the option, for every option of every command (one check, CommandLineProblems): it was taken
/// silently by some (<c>heki simulate --telemetry ""</c> ran without telemetry) and named differently by others.
/// </summary>
public sealed class EmptyOptionValueTests
{
    public static TheoryData<string, string> OptionsTakingAValue()
    {
        var data = new TheoryData<string, string>();
        foreach (var command in Program.BuildRoot().Subcommands)
        {
            foreach (var option in command.Options.Where(o => o.Arity.MinimumNumberOfValues > 0))
                data.Add(command.Name, option.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OptionsTakingAValue))]
    public void An_empty_value_is_refused_naming_the_option(string command, string option)
    {
        foreach (var empty in new[] { "", " " })
        {
            var parse = Program.BuildRoot().Parse([command, option, empty]);

            Assert.Equal($"{option} needs a value, got '{empty}'", CommandLineProblems.Describe(parse));
        }
    }

    [Fact]
    public void Every_command_has_options_taking_a_value_to_check()
    {
        // The theory above covers each command's options; a command whose options all became flags would drop out silently.
        Assert.Equal(["replay", "simulate", "kernel-data", "journal", "chaos", "node"],
            OptionsTakingAValue().Select(row => (string)row[0]).Distinct());
    }
}
