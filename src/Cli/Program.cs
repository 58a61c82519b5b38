using System.CommandLine;
using HekiActors.Cli.Replay;
using HekiActors.Cli.Simulate;

namespace HekiActors.Cli;

/// <summary>The `heki` command line: one subcommand per job.</summary>
public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("HekiActors: an actor model of KVM Heki per-guest-page memory permissions.");
        root.Subcommands.Add(ReplayCommand.Build());
        root.Subcommands.Add(SimulateCommand.Build());
        return root;
    }
}
