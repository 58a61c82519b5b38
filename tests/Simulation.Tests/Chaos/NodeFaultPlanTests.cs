using HekiActors.Simulation.Chaos;

namespace HekiActors.Simulation.Tests.Chaos;

public sealed class NodeFaultPlanTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void The_same_seed_faults_the_same_nodes_in_the_same_order_for_the_same_downtimes()
    {
        var first = new NodeFaultPlan(7, 3, NodeFaultKinds.All, Interval);
        var second = new NodeFaultPlan(7, 3, [NodeFaultKind.Pause, NodeFaultKind.Kill], Interval);
        var faults = Enumerable.Range(0, 50).Select(first.Fault).ToList();
        Assert.Equal(faults, Enumerable.Range(0, 50).Select(second.Fault));
        var other = Enumerable.Range(0, 50).Select(new NodeFaultPlan(8, 3, NodeFaultKinds.All, Interval).Fault).ToList();
        Assert.NotEqual(faults, other);
    }

    [Fact]
    public void Faults_spread_over_every_node_and_kind_within_their_bounds()
    {
        var plan = new NodeFaultPlan(1, 5, NodeFaultKinds.All, Interval);
        var faults = Enumerable.Range(0, 400).Select(plan.Fault).ToList();
        Assert.Equal(Enumerable.Range(0, 5), faults.Select(f => f.Node).Distinct().Order());
        Assert.Equal(NodeFaultKinds.All, faults.Select(f => f.Kind).Distinct().Order());
        Assert.All(faults, f => Assert.InRange(f.Wait, Interval / 2, Interval * 1.5));
        Assert.All(faults, f => Assert.InRange(f.Downtime, TimeSpan.FromSeconds(1),
            f.Kind == NodeFaultKind.Pause ? NodeFaultPlan.MaxPause : NodeFaultPlan.MaxKillDowntime));
        Assert.Equal(Enumerable.Range(0, 400), faults.Select(f => f.Number));
    }

    [Fact]
    public void Only_the_kinds_asked_for_are_planned()
    {
        var plan = new NodeFaultPlan(3, 3, [NodeFaultKind.Kill], Interval);
        Assert.All(Enumerable.Range(0, 100).Select(plan.Fault), f => Assert.Equal(NodeFaultKind.Kill, f.Kind));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public void Fewer_than_three_nodes_cannot_lose_one_and_keep_a_majority(int nodes) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NodeFaultPlan(1, nodes, NodeFaultKinds.All, Interval));

    [Fact]
    public void Node_fault_kinds_are_named_as_the_command_line_spells_them()
    {
        Assert.Equal(["node_kill", "node_pause"], NodeFaultKinds.All.Select(k => k.Name()));
        Assert.True(NodeFaultKinds.TryParse("node_pause", out var kind));
        Assert.Equal(NodeFaultKind.Pause, kind);
        Assert.False(NodeFaultKinds.TryParse("node_explode", out _));
    }

    [Fact]
    public void Only_message_faults_and_crashes_reach_a_cluster_from_its_client()
    {
        Assert.Equal(
            [FaultKind.DropRequest, FaultKind.DropReply, FaultKind.Duplicate, FaultKind.Reorder, FaultKind.Delay, FaultKind.CrashVm, FaultKind.CrashVcpu],
            FaultKinds.All.Where(k => k.ReachesCluster()));
    }
}
