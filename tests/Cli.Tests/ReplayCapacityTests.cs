using HekiActors.Cli.Replay;
using HekiActors.Memory;

namespace HekiActors.Cli.Tests;

/// <summary>
/// replay-format.md "Limits": a replay holds at most <see cref="ReplayCapacity.MaxVms"/> VMs and
/// <see cref="ReplayCapacity.MaxVcpus"/> vCPUs at once; a <c>create_vm</c> beyond them gets an error line, creates
/// nothing, and the run goes on; destroying a VM makes room again.
/// </summary>
public sealed class ReplayCapacityTests
{
    private static async Task<string[]> Replay(string script, ReplayCapacity capacity)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var exit = await ReplayRunner.RunAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(script)), HekiProfile.Hardened, stdout,
            TextWriter.Null, capacity: capacity);
        Assert.Equal(ReplayRunner.ExitLineErrors, exit);
        return ReplayHarness.Lines(stdout.ToString());
    }

    [Fact]
    public async Task A_create_vm_beyond_the_vCPU_bound_is_an_error_line_and_creates_nothing()
    {
        var lines = await Replay("""
            {"op":"create_vm","vm":"a","memory_mb":16,"vcpus":6}
            {"op":"create_vm","vm":"b","memory_mb":16,"vcpus":3}
            {"op":"get_permissions","vm":"b","gfn":0}
            {"op":"create_vm","vm":"a","memory_mb":16,"vcpus":6}
            {"op":"destroy_vm","vm":"a"}
            {"op":"create_vm","vm":"b","memory_mb":16,"vcpus":3}
            """, new ReplayCapacity(maxVms: 10, maxVcpus: 8));

        Assert.Equal([
            """{"line":1,"ok":true}""",
            """{"line":2,"error":"replay holds at most 8 vCPUs in all its VMs at once: 6 are in use, this VM's 3 would make 9; destroy VMs first"}""",
            """{"line":3,"error":"no VM named 'b'"}""",
            """{"line":4,"error":"VM 'a' already exists"}""",
            """{"line":5,"ok":true}""",
            """{"line":6,"ok":true}""",
        ], lines);
    }

    [Fact]
    public async Task A_create_vm_beyond_the_VM_bound_is_an_error_line()
    {
        var lines = await Replay("""
            {"op":"create_vm","vm":"a","memory_mb":16,"vcpus":1}
            {"op":"create_vm","vm":"b","memory_mb":16,"vcpus":1}
            """, new ReplayCapacity(maxVms: 1, maxVcpus: 8));

        Assert.Equal("""{"line":2,"error":"replay holds at most 1 VM at once; destroy one first"}""", lines[1]);
    }

    [Fact]
    public void The_default_bounds_are_the_documented_ones()
    {
        Assert.Equal(10_000, ReplayCapacity.MaxVms);
        Assert.Equal(65_536, ReplayCapacity.MaxVcpus);
    }
}
