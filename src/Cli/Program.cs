using System.CommandLine;
using HekiActors.Cli.Kernels;
using HekiActors.Cli.Replay;
using HekiActors.Cli.Simulate;

namespace HekiActors.Cli;

/// <summary>The `heki` command line: one subcommand per job.</summary>
public static class Program
{
    /// <summary>Exit status of a command line that could not be parsed: nothing ran.</summary>
    public const int UsageError = 2;

    public static int Main(string[] args) => Run(BuildRoot().Parse(args));

    /// <summary>
    /// Runs a parsed command line. System.CommandLine's own parse-error action exits 1, which for replay means
    /// "a line had an error"; a command line that could not be parsed runs nothing, so it exits 2 instead.
    /// </summary>
    internal static int Run(ParseResult parse)
    {
        var status = parse.Invoke();
        return parse.Errors.Count > 0 && status == 1 ? UsageError : status;
    }

    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("HekiActors: an actor model of KVM Heki per-guest-page memory permissions.");
        root.Subcommands.Add(ReplayCommand.Build());
        root.Subcommands.Add(SimulateCommand.Build());
        root.Subcommands.Add(KernelDataCommand.Build());
        return root;
    }
}
