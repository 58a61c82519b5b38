using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// The VM entity under Cluster.Sharding: two actor systems on 127.0.0.1 form a cluster, VMs spread over both, and
/// the golden replay scripts driven through the shard regions (alternating between the nodes) print exactly what
/// the local mode prints (the golden files).
/// </summary>
public sealed class ShardedVmTests(ShardedVmTests.TwoNodeCluster cluster) : IClassFixture<ShardedVmTests.TwoNodeCluster>
{
    private static readonly string Golden = Path.Combine(AppContext.BaseDirectory, "Golden");

    private readonly HekiHost _first = cluster.First;
    private readonly HekiHost _second = cluster.Second;

    [Fact]
    public async Task Vms_created_through_either_region_are_spread_over_both_nodes()
    {
        var ids = Enumerable.Range(0, 40).Select(i => $"spread-{i}").ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            var region = i % 2 == 0 ? _first : _second;
            Assert.IsType<VmCreated>(await region.Ask(new CreateVm(ids[i], Guid.NewGuid(), VmConfig.FromMegabytes(16, 1))));
        }

        // The cluster is shared with the golden replays: look only at this test's VMs.
        var mine = ids.Select(VmMessageExtractor.EntityIdOf).ToHashSet();
        var onFirst = (await EntitiesOn(_first)).Where(mine.Contains).ToList();
        var onSecond = (await EntitiesOn(_second)).Where(mine.Contains).ToList();

        Assert.NotEmpty(onFirst);
        Assert.NotEmpty(onSecond);
        Assert.Empty(onFirst.Intersect(onSecond));
        Assert.Equal(ids.Select(VmMessageExtractor.EntityIdOf).Order(), onFirst.Concat(onSecond).Order());
        // Either node reaches every VM, wherever it lives.
        foreach (var id in ids)
            Assert.Equal(HekiAttributes.DefaultPermissions, ((PermissionsValue)await _second.Ask(new GetPermissions(id, 1))).Attr);
    }

    public static TheoryData<string, string> Scripts()
    {
        var data = new TheoryData<string, string>();
        foreach (var script in Directory.GetFiles(Golden, "*.jsonl").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(script), HekiProfiles.HardenedName);
            data.Add(Path.GetFileNameWithoutExtension(script), HekiProfiles.HekiV2Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Golden_replay_through_the_shard_regions_prints_what_the_local_mode_prints(string name, string profile)
    {
        HekiProfiles.TryParse(profile, out var chosen);
        var expected = File.ReadAllText(Path.Combine(Golden, $"{name}.{profile}.out")).TrimEnd('\n').Split('\n');
        // Every run gets VM ids of its own in the shared cluster, taken off again in what it prints.
        var prefix = $"{name}.{profile}~";
        var output = new ReplayOutput(TextWriter.Null);
        var printed = new List<string>();
        long lineNumber = 0;
        foreach (var line in File.ReadLines(Path.Combine(Golden, name + ".jsonl")))
        {
            lineNumber++;
            if (ReplayParser.IsSkipped(line))
                continue;
            var parsed = ReplayParser.Parse(line);
            ReplayResult result;
            if (parsed.Request is { } request)
            {
                var node = lineNumber % 2 == 0 ? _first : _second;
                var message = ReplayMessages.ToMessage(request with { Vm = prefix + request.Vm }, chosen, RequestIds.Derive(7, (ulong)name.GetHashCode(), (ulong)lineNumber));
                result = ReplayMessages.ResultOf(await node.Ask(message));
            }
            else
            {
                result = new ErrorResult(parsed.Error!);
            }

            printed.Add(output.Format(lineNumber, result).Replace(prefix, "", StringComparison.Ordinal));
        }

        Assert.Equal(string.Join('\n', expected), string.Join('\n', printed));
    }

    private static async Task<IReadOnlyList<string>> EntitiesOn(HekiHost node)
    {
        var state = await node.Vms.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
        return state.Shards.SelectMany(shard => shard.EntityIds).ToList();
    }

    /// <summary>Two nodes of one cluster on 127.0.0.1 (free ports), shared by the tests of the class.</summary>
    public sealed class TwoNodeCluster : IAsyncLifetime
    {
        // Each node keeps its own in-memory journal, so no shard may move while the tests run.
        private static readonly Config NoRebalance = ConfigurationFactory.ParseString("""
            akka.cluster.sharding.rebalance-interval = 1d
            akka.cluster.sharding.distributed-data.durable.keys = []
            """);

        public HekiHost First { get; private set; } = null!;

        public HekiHost Second { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            First = await HekiHost.StartAsync(Node(seed: null));
            var firstAddress = Cluster.Get(First.System).SelfAddress;
            Cluster.Get(First.System).Join(firstAddress);
            Second = await HekiHost.StartAsync(Node(seed: firstAddress.ToString()));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!BothUp())
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException("the two nodes did not form a cluster within 60 s");
                await Task.Delay(100);
            }
        }

        public async Task DisposeAsync()
        {
            await Second.DisposeAsync();
            await First.DisposeAsync();
        }

        private static HekiHostOptions Node(string? seed) => new(
            SystemName: "heki-cluster", AkkaLogLevel: "OFF", WarningSink: new CountingWarningSink(), Config: NoRebalance,
            Cluster: new HekiClusterOptions(SeedNodes: seed is null ? [] : [seed]));

        private bool BothUp() =>
            new[] { First, Second }.All(node => Cluster.Get(node.System).State.Members.Count(m => m.Status == MemberStatus.Up) == 2);
    }
}
