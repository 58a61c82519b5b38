using System.CommandLine;
using System.CommandLine.Invocation;
using HekiActors.Cli.Journal;
using HekiActors.Cli.Chaos;
using HekiActors.Cli.Kernels;
using HekiActors.Cli.Node;
using HekiActors.Cli.Output;
using HekiActors.Cli.Replay;
using HekiActors.Cli.Simulate;

namespace HekiActors.Cli;

/// <summary>The `heki` command line: one subcommand per job.</summary>
public static class Program
{
    /// <summary>Exit status of a command line that could not be parsed: nothing ran.</summary>
    public const int UsageError = ExitCodes.Usage;

    public static int Main(string[] args)
    {
        // Restarts in place with a larger gen0 budget unless --vms asks for more than 1,000 VMs, or set or opted out
        // (GcBudget.cs); a node hosts however many VMs the cluster gives it, so it keeps the runtime's.
        if (GcBudget.EnvironmentProblem(Environment.GetEnvironmentVariable) is { } gcProblem)
        {
            // Before the restart, for every command: a run must not go on without the budget its environment asks for.
            try
            {
                StandardStreams.Error.WriteLine($"heki: {gcProblem}");
            }
            catch (OutputFailedException)
            {
                // Standard error failed: the exit status is all that is left.
            }

            return ExitCodes.Usage;
        }

        if (args is not ["node", ..])
            GcBudget.Apply(typeof(Program).Assembly, GcBudget.VmsOption(args));
        var parse = BuildRoot().Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = StandardStreams.Output,
            Error = StandardStreams.Error,
            // Our commands handle their own failures; anything else is a bug and keeps its stack trace.
            EnableDefaultExceptionHandler = false,
            // The commands handle SIGINT and SIGTERM themselves (StopSignals).
            ProcessTerminationTimeout = null,
        };
        try
        {
            return Run(parse, configuration);
        }
        catch (OutputFailedException e)
        {
            return OutputFailed(parse, configuration.Error, e);
        }
    }

    /// <summary>
    /// Runs a parsed command line. System.CommandLine's own parse-error action exits 1, which for replay means
    /// "a line had an error"; a command line that could not be parsed runs nothing, so it exits 2 instead.
    /// </summary>
    internal static int Run(ParseResult parse, InvocationConfiguration? configuration = null)
    {
        var status = parse.Invoke(configuration);
        return parse.Errors.Count > 0 && status == 1 ? UsageError : status;
    }

    /// <summary>One line saying which output failed (unless that output is standard error itself), and <see cref="ExitCodes.OutputFailed"/>.</summary>
    internal static int OutputFailed(ParseResult parse, TextWriter error, OutputFailedException failure)
    {
        if (failure.Target != StandardStreams.ErrorName)
        {
            try
            {
                var command = parse.CommandResult.Command is RootCommand ? "heki" : $"heki {parse.CommandResult.Command.Name}";
                error.WriteLine($"{command}: {failure.Message}");
            }
            catch (OutputFailedException)
            {
                // Standard error failed too: the exit status is all that is left.
            }
        }

        return ExitCodes.OutputFailed;
    }

    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("HekiActors: an actor model of KVM Heki per-guest-page memory permissions.");
        root.Subcommands.Add(ReplayCommand.Build());
        root.Subcommands.Add(SimulateCommand.Build());
        root.Subcommands.Add(KernelDataCommand.Build());
        root.Subcommands.Add(JournalCommand.Build());
        root.Subcommands.Add(ChaosCommand.Build());
        root.Subcommands.Add(NodeCommand.Build());
        root.Action = new NoCommandAction();
        return root;
    }

    /// <summary>
    /// <c>heki</c> without a command, or with one it does not know: one line saying so, exit 2 (instead of
    /// System.CommandLine's errors followed by the whole help on standard output).
    /// </summary>
    private sealed class NoCommandAction : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var word = parse.UnmatchedTokens.FirstOrDefault();
            var problem = word is null ? "a command is needed"
                : word.StartsWith('-') ? $"unknown option '{word}'"
                : $"unknown command '{word}'";
            var error = parse.InvocationConfiguration.Error;
            var commands = parse.RootCommandResult.Command.Subcommands.Select(c => c.Name).ToList();
            error.WriteLine($"heki: {problem}; the commands are {string.Join(", ", commands[..^1])} and {commands[^1]}");
            error.WriteLine("Try 'heki --help'.");
            return ExitCodes.Usage;
        }
    }
}
