using Akka.Actor;
using Akka.Cluster;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// <c>heki simulate --cluster</c> in one process: a VM node (an actor system hosting the VM shards) and the engine as its
/// client. The run reports what a local run of the same seed reports, with the kernel warnings the node decided and
/// counted (the VMs' warnings go to the supervisor of the node that hosts them, not to the client's).
/// </summary>
public sealed class ClusterRunTests
{
    private static SimulationSpec Spec(HekiProfile profile) => new(
        Vms: 4, VcpusPerVm: 1, MemoryMbPerVm: 64, Profile: profile, Mbec: true, Duration: null, AccessesPerVcpu: 20_000,
        Rounds: 2, Seed: 5, Workload: WorkloadMix.Default, Attacks: AttackMix.Default, Kernel: GuestKernelSpec.Synthetic);

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public async Task A_run_on_a_cluster_reports_the_warnings_the_nodes_decided_and_the_counts_of_a_local_run(HekiProfile profile)
    {
        var local = await new SimulationEngine().RunAsync(Spec(profile), null, null, CancellationToken.None);
        await using var node = await HekiHost.StartAsync(new HekiHostOptions(SystemName: "heki", AkkaLogLevel: "OFF",
            WarningSink: new CountingWarningSink(), Cluster: new HekiClusterOptions()));
        var cluster = Cluster.Get(node.System);
        cluster.Join(cluster.SelfAddress);
        // Each run with a nonce of its own, as the CLI draws one: its request ids are never answered from an earlier run's record.
        SimulationEngine Client(ulong nonce) => new(new SimulationEngineOptions(RunNonce: nonce, ClusterSeed: cluster.SelfAddress.ToString()));

        var first = await Client(1).RunAsync(Spec(profile), null, null, CancellationToken.None);
        // A second run on the same node: the first run's warnings, still in the node's counts, are not its own.
        var second = await Client(2).RunAsync(Spec(profile), null, null, CancellationToken.None);

        Assert.True(local.Counts.WarningsEmitted > 0, "the attacks make the guests warn");
        foreach (var run in new[] { first, second })
        {
            Assert.Equal(local.Counts.Violations, run.Counts.Violations);
            Assert.Equal(local.Counts.PageFaults, run.Counts.PageFaults);
            Assert.Equal(local.Counts.CrPinBlocks, run.Counts.CrPinBlocks);
            // Every warning a VM reported was decided on the node: printed or suppressed as the limiters there said.
            Assert.Equal(local.Counts.WarningsEmitted + local.Counts.WarningsSuppressed, run.Counts.WarningsEmitted + run.Counts.WarningsSuppressed);
            Assert.True(run.Counts.WarningsEmitted > 0, "the node's printed warnings reach the client's report");
            var only = Assert.Single(run.Nodes!);
            Assert.Equal(4, only.Vms);
        }

        var stats = await node.Warnings.Ask<WarningStats>(GetWarningStats.Instance, TimeSpan.FromSeconds(10));
        Assert.Equal(first.Counts.WarningsEmitted + second.Counts.WarningsEmitted, stats.TotalEmitted);
    }
}
