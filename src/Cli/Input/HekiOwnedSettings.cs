using Akka.Configuration;

namespace HekiActors.Cli.Input;

/// <summary>
/// The Akka settings heki sets itself for every node and client (docs/cluster.md, "Settings heki sets itself"): a
/// settings file's value of one of them was neither used nor refused (Akka.Hosting puts heki's over the file's, so
/// <c>akka.remote.dot-netty.tcp.port = -5</c> ran on heki's port), or, for the seed nodes and the public host, used
/// behind the checks and the printed line of <c>heki node</c>. Such a value is refused, naming what sets it.
/// </summary>
internal static class HekiOwnedSettings
{
    /// <summary>Each setting (a section stands for everything in it) and what to do instead.</summary>
    public static readonly IReadOnlyList<(string Path, string Instead)> Settings =
    [
        ("akka.remote.dot-netty.tcp.hostname", "use heki node --host or heki.node.host"),
        ("akka.remote.dot-netty.tcp.port", "use heki node --port or heki.node.port"),
        ("akka.remote.dot-netty.tcp.public-hostname", "use heki node --public-host or heki.node.public-host"),
        ("akka.cluster.seed-nodes", "use heki node --seed or heki.node.seed-nodes"),
        ("akka.cluster.roles", "use heki node --role or heki.node.roles"),
        ("akka.actor.provider", "heki's nodes and clients are always cluster members"),
        ("akka.cluster.downing-provider-class", "heki always runs Akka's split-brain resolver"),
        ("akka.cluster.split-brain-resolver.active-strategy", "heki's resolver always keeps the majority of the nodes of role vm (its stable-after and down-all-when-unstable may be set)"),
        ("akka.cluster.split-brain-resolver.keep-majority", "heki's resolver always counts the nodes of role vm"),
    ];

    /// <summary>Null when <paramref name="file"/> sets none of <see cref="Settings"/>; otherwise one line naming the first.</summary>
    public static string? Problem(Config file)
    {
        foreach (var (path, instead) in Settings)
        {
            if (file.HasPath(path))
                return $"{path} is set by heki itself (the file's value would not be used): {instead}";
        }

        return null;
    }
}
