using System.CommandLine;
using System.CommandLine.Invocation;
using HekiActors.Cli.Input;
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
            HelpName = $"{HekiProfiles.HardenedName}|{HekiProfiles.HekiV2Name}",
        };

        var cluster = new Option<string?>("--cluster")
        {
            Description = "Replay against the VMs of a running cluster through this seed node (akka.tcp://heki@HOST:PORT); the output is the same as in this process.",
            HelpName = "SEED-ADDRESS",
        };

        var clusterConfig = new Option<string?>("--cluster-config")
        {
            Description = "With --cluster: the settings file the nodes run with (heki node --config); this client runs with their split-brain resolver and failure detector (docs/cluster.md).",
            HelpName = "FILE",
        };

        var command = new Command("replay", "Run a JSON Lines script of requests on the model and print each result as JSON.")
        {
            file,
            profile,
            cluster,
            clusterConfig,
        };
        command.Action = new ReplayAction(file, profile, cluster, clusterConfig);
        return command;
    }

    /// <summary>Runs the command; sees parse errors itself so each is one line naming the real problem, exit 2.</summary>
    private sealed class ReplayAction(Argument<string> file, Option<string> profile, Option<string?> cluster, Option<string?> clusterConfig)
        : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            if (CommandLineProblems.Report(parse, stderr))
            {
                return ExitCodes.Usage;
            }

            var profileName = parse.GetValue(profile);
            if (!HekiProfiles.TryParse(profileName, out var chosen))
            {
                stderr.WriteLine($"heki replay: --profile must be {HekiProfiles.HardenedName} or {HekiProfiles.HekiV2Name}, got '{profileName}'");
                stderr.WriteLine("Try 'heki replay --help'.");
                return ExitCodes.Usage;
            }
            if (Node.ClusterClientOptions.Check(parse.GetValue(cluster), parse.GetValue(clusterConfig), out var nodesConfig) is { } clusterProblem)
            {
                stderr.WriteLine($"heki replay: {clusterProblem}");
                if (!Input.HoconFile.IsAbout(clusterProblem, "--cluster-config", parse.GetValue(clusterConfig)))
                    stderr.WriteLine("Try 'heki replay --help'.");
                return ExitCodes.Usage;
            }

            var source = parse.GetValue(file) ?? ReplayRunner.StandardInput;
            var real = ReferenceEquals(stdout, StandardStreams.Output);
            // Results appended to the script being read (heki replay run.jsonl >>run.jsonl) would be read again, forever.
            var inputs = source == ReplayRunner.StandardInput ? [] : new[] { new PathConflicts.Use("the input", source, Writes: false) };
            if (real && PathConflicts.Find(inputs, standardStreams: true, readsStandardInput: source == ReplayRunner.StandardInput,
                    overwritesInput: "replay would read its own results") is { } loop)
            {
                loop.SafeWriter(stdout, stderr)?.WriteLine($"heki replay: {loop.Message}");
                return ExitCodes.Usage;
            }

            if (source == ReplayRunner.StandardInput && StandardInputCheck.Problem() is { } closed)
            {
                stderr.WriteLine($"heki replay: cannot read standard input: {closed}");
                return ExitCodes.Usage;
            }

            using var signals = StopSignals.Register(_ => { });
            // Bytes, not Console.In: each line is decoded strictly, so invalid UTF-8 is an error rather than U+FFFD.
            using var stdin = Console.OpenStandardInput();
            var status = ReplayRunner.RunAsync(source, chosen, stdin, stdout, stderr, cancellationToken: signals.Token,
                cluster: parse.GetValue(cluster) is { } clusterSeed ? new ReplayCluster(clusterSeed, nodesConfig) : null)
                .GetAwaiter().GetResult();
            return status == ReplayRunner.ExitStopped && signals.Received is { } signal ? ExitCodes.StoppedBy(signal) : status;
        }
    }
}
