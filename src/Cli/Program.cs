using System.CommandLine;

namespace HekiActors.Cli;

/// <summary>The `heki` command line: one subcommand per job.</summary>
public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("HekiActors: an actor model of KVM Heki per-guest-page memory permissions.");
        return root;
    }
}
