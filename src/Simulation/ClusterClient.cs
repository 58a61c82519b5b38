using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using HekiActors.Actors.Hosting;

namespace HekiActors.Simulation;

/// <summary>
/// A simulation that drives a running cluster (<c>heki simulate --cluster SEED</c>): its actor system joins the cluster
/// as a client (no role <c>vm</c>, so it hosts no VMs and does not count for the split-brain resolver's majority) and
/// reaches every VM through a shard region proxy; the guest kernels and the coordinator stay in this process.
/// </summary>
public static class ClusterClient
{
    /// <summary>How long joining may take before the run is refused (seed nodes down, wrong address).</summary>
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The settings every member of the cluster must share, clients included: the split-brain resolver's decisions are
    /// taken by the cluster's leader, which may be a client (the member whose address sorts first), and every member
    /// downs all on its own when the leader has not decided within <c>stable-after</c> and <c>down-all-when-unstable</c>.
    /// A client with another <c>stable-after</c> than the nodes' would bring the whole cluster down on a node's loss.
    /// </summary>
    public static readonly IReadOnlyList<string> SharedSettings = ["akka.cluster.split-brain-resolver", "akka.cluster.failure-detector"];

    /// <summary>The host options of a client of the cluster at <paramref name="seed"/>.</summary>
    /// <param name="local">The options the client would run with alone.</param>
    /// <param name="seed">A node's address, <c>akka.tcp://heki@HOST:PORT</c>.</param>
    /// <param name="nodes">The nodes' settings (their <c>heki node --config</c> file): its <see cref="SharedSettings"/> apply
    /// to the client over its own; null when the nodes run with the defaults.</param>
    /// <param name="allSeeds">Every seed node the client may join through (the first seed is among them); null: <paramref name="seed"/> alone.</param>
    public static HekiHostOptions Options(HekiHostOptions local, string seed, Config? nodes = null, IReadOnlyList<string>? allSeeds = null)
    {
        if (!ActorPath.TryParseAddress(seed, out var address) || address.Host is null || address.Port is null)
            throw new ArgumentException($"'{seed}' is not a cluster node address (akka.tcp://heki@HOST:PORT)", nameof(seed));
        return local with
        {
            Config = nodes is null ? local.Config : SharedOf(nodes).WithFallback(local.Config ?? Config.Empty),
            // Every member of a cluster has the same system name (the seed's).
            SystemName = address.System,
            Journal = JournalKind.InMemory,
            SqlitePath = null,
            Cluster = new HekiClusterOptions(LocalAddressTowards(address.Host, address.Port.Value), Port: 0, SeedNodes: allSeeds ?? [seed], HostsVms: false),
        };
    }

    /// <summary>The <see cref="SharedSettings"/> that <paramref name="nodes"/> sets, and nothing else of it (not the nodes' ports or roles).</summary>
    public static Config SharedOf(Config nodes)
    {
        var shared = Config.Empty;
        foreach (var path in SharedSettings.Where(nodes.HasPath))
            shared = ConfigurationFactory.ParseString($"{path} {{\n{nodes.GetConfig(path).Root}\n}}").WithFallback(shared);
        return shared;
    }

    /// <summary>Waits until the client is a member of the cluster.</summary>
    /// <exception cref="TimeoutException">Not a member within <see cref="JoinTimeout"/>.</exception>
    public static async Task WaitUntilUpAsync(HekiHost client, string seed, CancellationToken cancellationToken)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(client.System).RegisterOnMemberUp(() => up.TrySetResult());
        var finished = await Task.WhenAny(up.Task, Task.Delay(JoinTimeout, cancellationToken)).ConfigureAwait(false);
        if (finished != up.Task)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"could not join the cluster at {seed} within {JoinTimeout.TotalSeconds:0} s (is a heki node running there?)");
        }
    }

    /// <summary>Each VM-hosting node's VMs and shards, as the shard coordinator sees them (bounded: empty if it does not answer).</summary>
    public static async Task<IReadOnlyList<NodeCount>> NodeCountsAsync(HekiHost client, TimeSpan? timeout = null)
    {
        var within = timeout ?? TimeSpan.FromSeconds(10);
        try
        {
            var stats = await client.Vms.Ask<ClusterShardingStats>(new GetClusterShardingStats(within), within + TimeSpan.FromSeconds(5))
                .ConfigureAwait(false);
            return stats.Regions
                .Select(region => new NodeCount(region.Key.ToString(), region.Value.Stats.Values.Sum(), region.Value.Stats.Count))
                .OrderBy(node => node.Address, StringComparer.Ordinal)
                .ToList();
        }
        catch (AskTimeoutException)
        {
            return [];
        }
    }

    /// <summary>
    /// The local address the nodes can reach this client at: loopback for a seed on loopback, otherwise the address of
    /// the interface that routes to the seed (a UDP socket's connect picks it and sends nothing).
    /// </summary>
    private static string LocalAddressTowards(string host, int port)
    {
        if (host is "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip)))
            return "127.0.0.1";
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(host, port);
            return ((IPEndPoint)socket.LocalEndPoint!).Address.ToString();
        }
        catch (SocketException)
        {
            return Dns.GetHostName();
        }
    }
}
