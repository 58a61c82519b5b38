using System.Text.Json;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Protocol;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Vcpu.Hypercalls;
using HekiActors.Vcpu.Protocol;

namespace HekiActors.Actors.Tests;

/// <summary>
/// A minimal replayer for the tests: applies recorded replay-format lines in order to a fresh host and returns,
/// per line, the result in replay-format words ("ok"/"pf"/"mmio"/"gp" or the return value).
/// </summary>
internal static class SimulationReplayer
{
    public static async Task<List<(JsonElement Request, string Result)>> Replay(IEnumerable<string> lines, HekiProfile profile)
    {
        var results = new List<(JsonElement, string)>();
        await using var host = HekiHost.Start(new HekiHostOptions(AkkaLogLevel: "OFF", SystemName: "heki-replay-test",
            WarningSink: new Simulation.CountingWarningSink()));
        foreach (var line in lines)
        {
            var request = JsonDocument.Parse(line).RootElement.Clone();
            var vm = request.GetProperty("vm").GetString()!;
            var reply = await host.Ask(ToMessage(request, vm, profile));
            results.Add((request, reply switch
            {
                VmCreated or VmDestroyed => "ok",
                HypercallDone done => done.Ret.ToString(System.Globalization.CultureInfo.InvariantCulture),
                CrWriteDone done => done.Written ? "ok" : "gp",
                GuestAccessDone done => done.Result switch
                {
                    AccessResult.Ok => "ok",
                    AccessResult.PageFault => "pf",
                    _ => "mmio",
                },
                _ => throw new InvalidOperationException($"line {line}: unexpected reply {reply}"),
            }));
        }

        return results;
    }

    private static object ToMessage(JsonElement r, string vm, HekiProfile profile)
    {
        var op = r.GetProperty("op").GetString();
        int Vcpu() => r.GetProperty("vcpu").GetInt32();
        byte Cpl() => r.TryGetProperty("cpl", out var cpl) ? cpl.GetByte() : (byte)0;
        return op switch
        {
            "create_vm" => new CreateVm(vm, Guid.NewGuid(), VmConfig.FromMegabytes(r.GetProperty("memory_mb").GetUInt64(),
                r.GetProperty("vcpus").GetInt32(), r.TryGetProperty("mbec", out var mbec) ? mbec.GetBoolean() : true, false, profile)),
            "destroy_vm" => new DestroyVm(vm, Guid.NewGuid()),
            "protect" => new GuestProtectMemory(vm, Vcpu(), Guid.NewGuid(), ListPages(r), Cpl()),
            "lock_cr" => new GuestLockCr(vm, Vcpu(), Guid.NewGuid(), r.GetProperty("cr").GetUInt64(), r.GetProperty("pin").GetUInt64(),
                r.GetProperty("flags").GetUInt64(), 0),
            "write_cr" => new GuestWriteCr(vm, Vcpu(), Guid.NewGuid(), r.GetProperty("cr").GetInt32(), r.GetProperty("value").GetUInt64()),
            "access" => new GuestAccess(vm, Vcpu(), r.GetProperty("gpa").GetUInt64(),
                AccessKinds.TryParse(r.GetProperty("kind").GetString(), out var kind) ? kind : throw new InvalidOperationException("kind"), Cpl()),
            _ => throw new InvalidOperationException($"op {op} is not used by simulations"),
        };
    }

    private static MemoryRange[][] ListPages(JsonElement r)
    {
        static MemoryRange[] Ranges(JsonElement page) => page.EnumerateArray()
            .Select(x => new MemoryRange(x.GetProperty("pa").GetUInt64(), x.GetProperty("epa").GetUInt64(), x.GetProperty("perm").GetUInt64()))
            .ToArray();

        if (r.TryGetProperty("list_pages", out var pages))
            return pages.EnumerateArray().Select(Ranges).ToArray();
        var ranges = Ranges(r.GetProperty("ranges"));
        return ranges.Chunk(ProtectMemory.MaxRangesPerPage).ToArray();
    }
}
