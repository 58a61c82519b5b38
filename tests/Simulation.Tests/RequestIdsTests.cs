namespace HekiActors.Simulation.Tests;

public sealed class RequestIdsTests
{
    [Fact]
    public void Request_ids_follow_from_seed_nonce_and_counter_alone()
    {
        Assert.Equal(RequestIds.Derive(7, 1, 3), RequestIds.Derive(7, 1, 3));
        var ids = new HashSet<Guid>
        {
            RequestIds.Derive(7, 1, 3), RequestIds.Derive(7, 2, 3), RequestIds.Derive(8, 1, 3), RequestIds.Derive(7, 1, 4),
            RequestIds.Derive(0, 0, 0),
        };
        Assert.Equal(5, ids.Count);
        Assert.DoesNotContain(Guid.Empty, ids);
    }
}
