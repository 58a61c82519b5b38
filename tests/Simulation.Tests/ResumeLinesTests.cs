using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Memory.Vm;
using HekiActors.Protocol;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// Issue 8 item 4: a recording of a resumed run starts each resumed VM with lines that rebuild, on a fresh model, the
/// VM exactly as the journal held it, so the recording replays.
/// </summary>
public sealed class ResumeLinesTests
{
    /// <summary>A VM after a seeded mix of every change a VM can journal (both profiles, MBEC on and off, private memory).</summary>
    private static VmState RandomVm(int seed)
    {
        var random = new Random(seed);
        var profile = random.Next(2) == 0 ? HekiProfile.Hardened : HekiProfile.HekiV2;
        var config = VmConfig.FromMegabytes(16, random.Next(1, 4), mbec: random.Next(2) == 0, privateMemory: random.Next(2) == 0, profile);
        var state = Apply(null, new VmCommand.Create("v", Guid.NewGuid(), config));
        for (var i = 0; i < 60; i++)
        {
            var start = (ulong)random.Next(0, 64);
            var end = start + (ulong)random.Next(1, 16);
            var pages = Enumerable.Range(0, random.Next(1, 4))
                .Select(_ => new MemoryRange((ulong)random.Next(0, 64) << 12, (ulong)random.Next(64, 80) << 12, (ulong)random.Next(0, 17))).ToArray();
            state = Apply(state, random.Next(10) switch
            {
                < 4 => new VmCommand.Protect("v", Guid.NewGuid(), [pages]),
                < 6 => new VmCommand.SetPermissions("v", Guid.NewGuid(), start, end, (ulong)random.Next(0, 16)),
                6 => new VmCommand.SetMemoryAttributes("v", Guid.NewGuid(), start << 12, (end - start) << 12, (ulong)random.Next(2) * 8, 0),
                7 => new VmCommand.LockCr("v", Guid.NewGuid(), random.Next(2) == 0 ? 0UL : 4UL,
                    random.Next(3) switch { 0 => CrPinning.Cr0Wp, 1 => CrPinning.Cr0Wp | 1, _ => CrPinning.Cr4Smep | CrPinning.Cr4Smap }, 0),
                _ => new VmCommand.WriteCr("v", Guid.NewGuid(), random.Next(config.VcpuCount), random.Next(16), (ulong)random.NextInt64()),
            });
        }

        return state;
    }

    private static VmState Apply(VmState? state, VmCommand command)
    {
        foreach (var ev in VmCore.Decide(state, command).Events)
            state = VmCore.Evolve(state, ev);
        return state ?? VmState.Initial();
    }

    /// <summary>What a replayed line does to the model (lock_cr and write_cr reach the VM as the vCPU forwards them from CPL 0).</summary>
    private static VmCommand Command(ReplayRequest request, HekiProfile profile) => request switch
    {
        CreateVmRequest r => new VmCommand.Create(r.Vm, Guid.NewGuid(), VmConfig.FromMegabytes(r.MemoryMb, r.Vcpus, r.Mbec, r.PrivateMemory, profile)),
        WriteCrRequest r => new VmCommand.WriteCr(r.Vm, Guid.NewGuid(), r.Vcpu, r.Cr, r.Value),
        LockCrRequest r => new VmCommand.LockCr(r.Vm, Guid.NewGuid(), r.Cr, r.Pin, r.Flags),
        SetPermissionsRequest r => new VmCommand.SetPermissions(r.Vm, Guid.NewGuid(), r.Start, r.End, r.Attr),
        SetMemoryAttributesRequest r => new VmCommand.SetMemoryAttributes(r.Vm, Guid.NewGuid(), r.Address, r.Size, r.Attributes, r.Flags),
        _ => throw new ArgumentOutOfRangeException(nameof(request), request, "not a resume line"),
    };

    [Fact]
    public void Replaying_a_resumed_VMs_lines_rebuilds_it_exactly_in_both_profiles()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var journaled = RandomVm(seed).ToSnapshot();
            VmState? rebuilt = null;
            foreach (var line in ResumeLines.For("v", journaled).Select(r => ReplayLines.Format(r, tag: ResumeLines.Tag)))
            {
                var parsed = ReplayParser.Parse(line);
                Assert.True(parsed.Request is not null, $"seed {seed}: {line}: {parsed.Error}");
                Assert.EndsWith(""","resumed":true}""", line);
                var decision = VmCore.Decide(rebuilt, Command(parsed.Request, journaled.Config!.Profile));
                Assert.True(decision.Outcome is VmOutcome.Created or VmOutcome.Returned { Ret: 0 } or VmOutcome.CrWrite { Written: true },
                    $"seed {seed}: {line} answered {decision.Outcome}");
                foreach (var ev in decision.Events)
                    rebuilt = VmCore.Evolve(rebuilt, ev);
            }

            var got = rebuilt!.ToSnapshot();
            Assert.Equal(journaled.Config, got.Config);
            Assert.Equal(journaled.Runs, got.Runs);
            Assert.Equal((journaled.Cr0Pins, journaled.Cr4Pins), (got.Cr0Pins, got.Cr4Pins));
            for (var v = 0; v < journaled.ControlRegisters.Length; v++)
                Assert.Equal(journaled.ControlRegisters[v], got.ControlRegisters[v]);
        }
    }

    [Fact]
    public void A_destroyed_VM_has_no_lines()
    {
        var destroyed = Apply(RandomVm(1), new VmCommand.Destroy("v", Guid.NewGuid()));
        Assert.Empty(ResumeLines.For("v", destroyed.ToSnapshot()));
    }

    [Fact]
    public async Task On_the_real_model_every_line_answers_ok_and_the_VM_reads_back_as_journaled()
    {
        var journaled = RandomVm(7).ToSnapshot();
        var lines = ResumeLines.For("v", journaled).Select(r => ReplayLines.Format(r, tag: ResumeLines.Tag)).ToList();

        var results = await SimulationReplayer.Replay(lines, journaled.Config!.Profile);

        Assert.All(results, r => Assert.Contains(r.Result, new[] { "ok", "0" }));
        await using var host = HekiHost.Start(new HekiHostOptions(AkkaLogLevel: "OFF"));
        foreach (var line in lines)
            await host.Ask(ReplayMessages.ToMessage(ReplayParser.Parse(line).Request!, journaled.Config.Profile, Guid.NewGuid()));
        var expected = VmState.FromSnapshot(journaled);
        for (ulong gfn = 0; gfn < 90; gfn++)
            Assert.Equal(expected.GetAttributes(gfn), ((AttributesValue)await host.Ask(new GetMemoryAttributes("v", gfn))).Word);
    }
}
