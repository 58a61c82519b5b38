using HekiActors.Simulation.Chaos;

namespace HekiActors.Simulation.Tests.Chaos;

public sealed class FaultPlanAndShrinkTests
{
    [Fact]
    public void The_same_seed_hits_the_same_operations_and_another_seed_others()
    {
        var ids = Enumerable.Range(0, 2000).Select(i => RequestIds.Derive(1, 2, (ulong)i)).ToArray();
        var a = FaultPlan.Every(7, 0.1);
        var b = FaultPlan.Every(7, 0.1);
        var c = FaultPlan.Every(8, 0.1);
        var hitsA = ids.Where(id => a.Hits(FaultKind.DropReply, id)).ToArray();
        Assert.Equal(hitsA, ids.Where(id => b.Hits(FaultKind.DropReply, id)));
        Assert.NotEqual(hitsA, ids.Where(id => c.Hits(FaultKind.DropReply, id)));
        // Kinds are decided independently, and the rate is what was asked (within a wide margin).
        Assert.NotEqual(hitsA, ids.Where(id => a.Hits(FaultKind.Duplicate, id)));
        Assert.InRange(hitsA.Length, 120, 280);
    }

    [Fact]
    public void Identities_of_reads_do_not_depend_on_the_process()
    {
        Assert.Equal(FaultPlan.IdentityOf("vm-1", 5), FaultPlan.IdentityOf("vm-1", 5));
        Assert.NotEqual(FaultPlan.IdentityOf("vm-1", 5), FaultPlan.IdentityOf("vm-2", 5));
    }

    [Fact]
    public void A_rate_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaultPlan(1, new Dictionary<FaultKind, double> { [FaultKind.Delay] = 1.5 }));
        Assert.False(FaultPlan.None.AnyEnabled);
    }

    [Fact]
    public async Task Ddmin_keeps_only_the_lines_the_failure_needs()
    {
        var input = Enumerable.Range(0, 40).ToList();
        var minimal = await DeltaDebugging.MinimizeAsync<int>(input, c => Task.FromResult(c.Contains(3) && c.Contains(17) && c.Contains(31)));
        Assert.Equal([3, 17, 31], minimal);
    }

    [Fact]
    public async Task Ddmin_result_is_one_minimal_when_order_matters()
    {
        var input = Enumerable.Range(0, 25).ToList();
        // Fails for any subsequence holding 5 before 20, and 9.
        static bool Fails(IReadOnlyList<int> c) => c.ToList().IndexOf(5) is >= 0 and var i && c.ToList().IndexOf(20) > i && c.Contains(9);
        var minimal = await DeltaDebugging.MinimizeAsync<int>(input, c => Task.FromResult(Fails(c)));
        Assert.True(Fails(minimal));
        for (var i = 0; i < minimal.Count; i++)
            Assert.False(Fails(minimal.Where((_, j) => j != i).ToList()));
    }
}
