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

    public static TheoryData<string, string> PositionalArguments()
    {
        var data = new TheoryData<string, string>();
        foreach (var command in Program.BuildRoot().Subcommands)
        {
            foreach (var argument in command.Arguments)
                data.Add(command.Name, argument.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PositionalArguments))]
    public void An_empty_path_is_refused_as_an_empty_path_for_every_positional_argument(string command, string argument)
    {
        foreach (var empty in new[] { "", " " })
        {
            var parse = Program.BuildRoot().Parse([command, empty]);

            // "heki simulate ''" read "heki simulate: : a scenario file must end in .yaml, .yml or .json".
            Assert.Equal($"{argument} is an empty path ('{empty}'): name a file", CommandLineProblems.Describe(parse));
        }
    }

    [Fact]
    public void Heki_simulate_with_an_empty_scenario_path_says_so()
    {
        var error = new StringWriter();
        var status = Program.Run(Program.BuildRoot().Parse(["simulate", ""]), new System.CommandLine.InvocationConfiguration { Output = new StringWriter(), Error = error });

        Assert.Equal(2, status);
        Assert.StartsWith("heki simulate: SCENARIO is an empty path (''): name a file\n", error.ToString());
    }
}
