using HekiActors.TestSupport;

namespace HekiActors.Cli.Tests;

/// <summary>
/// <c>--record PATH</c> with both profiles writes PATH's two per-profile files beside it: a PATH that is not a regular file
/// path (a device, a FIFO, <c>/dev/stdout</c>) is refused before anything runs, and nothing is created beside it.
/// </summary>
public sealed class RecordPathTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string[] Args(string record) =>
        ["--vms", "1", "--vcpus", "1", "--memory-mb", "16", "--kernel", "synthetic", "--profile", "both", "--record", record, "--no-progress"];

    [Theory]
    [InlineData("/dev/full")]
    [InlineData("/dev/stdout")]
    public void A_device_is_refused_with_both_profiles(string record)
    {
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args(record));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"heki simulate: --record {record} is ", error);
        Assert.EndsWith($": with --profile both the recordings go to {record}.hardened and {record}.heki-v2 beside it; " +
            "give a regular file path, or record one profile\n", error.ReplaceLineEndings("\n"));
        Assert.Empty(engine.Runs);
        Assert.False(File.Exists(record + ".hardened"));
        Assert.False(File.Exists(record + ".heki-v2"));
    }

    [Fact]
    public void A_FIFO_is_refused_with_both_profiles()
    {
        var fifo = _folder.File("run.fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
            mkfifo.WaitForExit();
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args(fifo));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"heki simulate: --record {fifo} is a FIFO: with --profile both", error);
        Assert.False(File.Exists(_folder.File("run.hardened.fifo")));
    }
}
