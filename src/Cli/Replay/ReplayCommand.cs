using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Output;
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
        command.Action = new ReplayAction(file, profile);
        return command;
    }

    /// <summary>Runs the command; sees parse errors itself so each is one line naming the real problem, exit 2.</summary>
    private sealed class ReplayAction(Argument<string> file, Option<string> profile) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            if (CommandLineProblems.Describe(parse) is { } problem)
            {
                stderr.WriteLine($"heki replay: {problem}");
                stderr.WriteLine("Try 'heki replay --help'.");
                return ExitCodes.Usage;
            }

            // AcceptOnlyFromAmong has already refused any other name.
            HekiProfiles.TryParse(parse.GetValue(profile), out var chosen);
            var source = parse.GetValue(file) ?? ReplayRunner.StandardInput;
            var real = ReferenceEquals(stdout, StandardStreams.Output);
            if (real && ReadsItsOwnOutput(source) is { } loop)
            {
                stderr.WriteLine($"heki replay: {loop}: it would read its own results");
                return ExitCodes.Usage;
            }

            using var signals = StopSignals.Register(_ => { });
            var stdin = real ? new StreamReader(Console.OpenStandardInput(), Encoding.UTF8) : Console.In;
            var status = ReplayRunner.RunAsync(source, chosen, stdin, stdout, stderr, cancellationToken: signals.Token)
                .GetAwaiter().GetResult();
            return status == ReplayRunner.ExitStopped && signals.Received is { } signal ? ExitCodes.StoppedBy(signal) : status;
        }

        /// <summary>Standard output is the input file (<c>heki replay run.jsonl &gt;&gt; run.jsonl</c>): it would never end.</summary>
        private static string? ReadsItsOwnOutput(string source)
        {
            if (FileIdentity.OfStandardStream(1, StandardStreams.OutputName) is not { IsRegularFileOrAbsent: true } stdout)
                return null;
            var input = source == ReplayRunner.StandardInput
                ? FileIdentity.OfStandardStream(0, "standard input")
                : FileIdentity.Of(source);
            return input is not null && stdout.SameFileAs(input)
                ? $"standard output is the input {(source == ReplayRunner.StandardInput ? "(standard input)" : source)}"
                : null;
        }
    }
}
