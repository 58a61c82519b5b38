using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests;

/// <summary>The recording side of the replay codec: every request it writes parses back to the same request.</summary>
public sealed class ReplayLinesTests
{
    private static readonly MemoryRange Page = new(4096, 8192, 13);

    public static TheoryData<ReplayRequest> Requests() =>
    [
        new CreateVmRequest("a", 64, 2, Mbec: true, PrivateMemory: false),
        new CreateVmRequest("vm \"ü\" <x>", ReplayParser.MaxMemoryMb, ReplayParser.MaxVcpus, Mbec: false, PrivateMemory: true),
        new DestroyVmRequest("a"),
        new ProtectRequest("a", 1, [[Page, new MemoryRange(0, ulong.MaxValue & ~4095UL, 7)]], Cpl: 0),
        new ProtectRequest("a", 0, [[Page], [], [Page]], Cpl: 3),
        new ProtectRequest("a", 0, [Enumerable.Repeat(Page, ProtectMemory.MaxRangesPerPage + 1).ToArray()], Cpl: 0),
        new ProtectRequest("a", 0, [], Cpl: 0),
        new SetPermissionsRequest("a", 1, ulong.MaxValue, 15),
        new GetPermissionsRequest("a", ulong.MaxValue),
        new SetMemoryAttributesRequest("a", 4096, 8192, 8, 0),
        new GetMemoryAttributesRequest("a", 3),
        new AccessRequest("a", 1, ulong.MaxValue, AccessKind.Exec, 3),
        new AccessRequest("a", 0, 0, AccessKind.Read, 0),
        new LockCrRequest("a", 0, 4, CrPinning.Cr4Smep, 1),
        new WriteCrRequest("a", 1, 15, ulong.MaxValue),
        new ReadCrRequest("a", 0, 4),
    ];

    [Theory]
    [MemberData(nameof(Requests))]
    public void Every_written_request_parses_back_to_the_same_request(ReplayRequest request)
    {
        var line = ReplayLines.Format(request);

        var parsed = ReplayParser.Parse(line);

        Assert.Null(parsed.Error);
        Assert.Equal(request.GetType(), parsed.Request!.GetType());
        Assert.Equal(line, ReplayLines.Format(parsed.Request));
        if (request is ProtectRequest protect)
            Assert.Equal(protect.ListPages.Select(p => p.Length), ((ProtectRequest)parsed.Request).ListPages.Select(p => p.Length));
        else
            Assert.Equal(request, parsed.Request);
    }

    [Fact]
    public void Recorded_lines_carry_what_was_observed_and_why_in_fields_the_parser_ignores()
    {
        var line = ReplayLines.Format(new AccessRequest("sim-00001", 1, 8200, AccessKind.Write, 0),
            OutcomeResult.Of(AccessResult.PageFault), new ReplayTag("attack", AttackKind.WriteRodata.Name()));

        Assert.Equal("""{"op":"access","vm":"sim-00001","vcpu":1,"gpa":8200,"kind":"write","cpl":0,"observed":"pf","attack":"write_rodata"}""", line);
        Assert.Equal(new AccessRequest("sim-00001", 1, 8200, AccessKind.Write, 0), ReplayParser.Parse(line).Request);
    }

    [Fact]
    public void Recordings_spell_out_mbec_and_cpl_and_a_hypercall_observes_its_return_value()
    {
        Assert.Equal("""{"op":"create_vm","vm":"a","memory_mb":64,"vcpus":2,"mbec":true}""",
            ReplayLines.Format(new CreateVmRequest("a", 64, 2, Mbec: true, PrivateMemory: false)));
        Assert.Equal("""{"op":"protect","vm":"a","vcpu":0,"cpl":0,"ranges":[{"pa":4096,"epa":8192,"perm":13}],"observed":-1,"event":"downgrade"}""",
            ReplayLines.Format(new ProtectRequest("a", 0, [[Page]], 0), new RetResult(Errno.EPERM), new ReplayTag("event", "downgrade")));
        Assert.Equal("""{"op":"write_cr","vm":"a","vcpu":0,"cr":0,"value":1,"observed":"gp","sample":true}""",
            ReplayLines.Format(new WriteCrRequest("a", 0, 0, 1), OutcomeResult.OfCrWrite(false), new ReplayTag("sample")));
    }
}
