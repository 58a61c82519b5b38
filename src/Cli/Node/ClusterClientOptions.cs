using Akka.Configuration;
using HekiActors.Cli.Input;

namespace HekiActors.Cli.Node;

/// <summary>
/// The options of a command that drives a running cluster as its client (<c>heki simulate</c>, <c>heki replay</c>):
/// <c>--cluster SEED</c> and <c>--cluster-config FILE</c>, the nodes' settings file (docs/cluster.md).
/// </summary>
internal static class ClusterClientOptions
{
    public const string ConfigWithoutCluster = "--cluster-config is the settings of the nodes of a --cluster: give --cluster SEED-ADDRESS too";

    /// <summary>
    /// Checks <paramref name="seed"/> (a node's address) and reads <paramref name="configPath"/>; returns the one-line
    /// problem, or null with <paramref name="nodes"/> the nodes' settings (null when no file was given).
    /// </summary>
    public static string? Check(string? seed, string? configPath, out Config? nodes)
    {
        nodes = null;
        if (seed is not null && NodeSettings.AddressProblem("--cluster", seed) is { } notAnAddress)
            return notAnAddress;
        if (configPath is null)
            return null;
        if (seed is null)
            return ConfigWithoutCluster;
        nodes = HoconFile.TryRead(configPath, "--cluster-config", out var problem);
        return problem;
    }
}
