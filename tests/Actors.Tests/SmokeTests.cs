using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

public class SmokeTests(ITestOutputHelper output) : ActorTestBase(output)
{
    [Fact]
    public void The_suite_runs_in_its_serialization_mode()
    {
        // HekiActors.Actors.Tests runs every test with local messages as they are; HekiActors.Actors.Tests.Serialized
        // (the same sources) with every message serialized and deserialized on the way, as across machines.
        Assert.Equal(TestMode.SerializeMessages, Sys.Settings.SerializeAllMessages);
    }

    [Fact]
    public void Replay_format_example_runs_through_the_actors()
    {
        CreateVm("a", vcpus: 2, memoryMb: 64);
        Assert.Equal(0, Protect("a", 0, new MemoryRange(4096, 12288, 13)));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, 8192, AccessKind.Write));
        Assert.Equal(AccessResult.Ok, Access("a", 1, 8192, AccessKind.Read));
        Assert.Equal(AccessResult.Ok, Access("a", 0, 1 << 20, AccessKind.Write));
        Assert.Equal(AccessResult.Mmio, Access("a", 0, 64UL << 20, AccessKind.Write));
    }
}
