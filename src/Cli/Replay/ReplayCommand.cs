using System.CommandLine;
using HekiActors.Memory;

namespace HekiActors.Cli.Replay;

/// <summary>The <c>heki replay [FILE|-] [--profile hardened|heki-v2]</c> command (replay-format.md).</summary>
public static class ReplayCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("FILE")
        {
            Description = "JSON Lines script to replay; - (the default) reads standard input.",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => ReplayRunner.StandardInput,
        };
        var profile = new Option<string>("--profile")
        {
            Description = "The profile every VM follows: hardened (RFC defects fixed) or heki-v2 (bug for bug).",
            DefaultValueFactory = _ => HekiProfiles.HardenedName,
        };
        profile.AcceptOnlyFromAmong(HekiProfiles.HardenedName, HekiProfiles.HekiV2Name);

        var command = new Command("replay", "Run a JSON Lines script of requests on the model and print each result as JSON.")
        {
            file,
            profile,
        };
        command.SetAction(parse =>
        {
            // AcceptOnlyFromAmong has already refused any other name.
            HekiProfiles.TryParse(parse.GetValue(profile), out var chosen);
            // Bytes, not Console.In: each line is decoded strictly, so invalid UTF-8 is an error rather than U+FFFD.
            using var stdin = Console.OpenStandardInput();
            return ReplayRunner.RunAsync(parse.GetValue(file) ?? ReplayRunner.StandardInput, chosen, stdin, Console.Out, Console.Error)
                .GetAwaiter().GetResult();
        });
        return command;
    }
}
