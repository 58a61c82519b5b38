using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
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

    /// <summary>The host options of a client of the cluster at <paramref name="seed"/>.</summary>
    /// <param name="allSeeds">Every seed node the client may join through (the first seed is among them); null: <paramref name="seed"/> alone.</param>
    public static HekiHostOptions Options(HekiHostOptions local, string seed, IReadOnlyList<string>? allSeeds = null)
    {
        if (!ActorPath.TryParseAddress(seed, out var address) || address.Host is null || address.Port is null)
            throw new ArgumentException($"'{seed}' is not a cluster node address (akka.tcp://heki@HOST:PORT)", nameof(seed));
        return local with
        {
            // Every member of a cluster has the same system name (the seed's).
            SystemName = address.System,
            Journal = JournalKind.InMemory,
            SqlitePath = null,
            Cluster = new HekiClusterOptions(LocalAddressTowards(address.Host, address.Port.Value), Port: 0, SeedNodes: allSeeds ?? [seed], HostsVms: false),
        };
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
