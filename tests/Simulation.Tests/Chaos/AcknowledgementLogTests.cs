using HekiActors.Simulation.Chaos;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests.Chaos;

public sealed class AcknowledgementLogTests : IDisposable
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("heki-acks-").FullName, "run.acks");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);

    [Fact]
    public void Every_result_kind_reads_back_as_written_and_a_line_cut_by_a_kill_is_ignored()
    {
        ReplayResult[] results =
        [
            OkResult.Instance, new RetResult(-1, 1), new AttrResult(5), new AttributesResult(0xB0), new OutcomeResult("pf"),
            new ValueResult(0x80050033), new ErrorResult("no VM named 'a'"),
        ];
        using (var log = AcknowledgementLog.Open(_path))
        {
            log.Started(0);
            for (var i = 0; i < results.Length; i++)
                log.Acknowledged(1, i + 1, new GetPermissionsRequest("a", (ulong)i), results[i], probe: i == 2);
            log.Injected(FaultKind.CrashVm);
        }

        File.AppendAllText(_path, "{\"vm\":1,\"n\":9,\"requ"); // the line a SIGKILL cut short
        var contents = AcknowledgementLog.Read(_path);
        Assert.Equal(1, contents.Starts);
        Assert.Equal(results, contents.Operations.Select(e => e.Result));
        Assert.Equal([false, false, true, false, false, false, false], contents.Operations.Select(e => e.Probe));
        Assert.Equal(new GetPermissionsRequest("a", 3), contents.Operations[3].Request);
        Assert.Equal(1, contents.Faults[FaultKind.CrashVm]);
    }

    [Fact]
    public void A_complete_line_the_log_never_writes_is_named_with_its_line_number()
    {
        File.WriteAllText(_path, "{\"start\":0}\n{\"vm\":1}\n");
        var e = Assert.Throws<InvalidDataException>(() => AcknowledgementLog.Read(_path));
        Assert.Contains(":2:", e.Message, StringComparison.Ordinal);
    }
}
