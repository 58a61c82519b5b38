using System.CommandLine;
using System.Text.Json;

namespace HekiActors.Cli.Tests;

/// <summary>The command on the real engine, kept tiny: the wiring end to end, not the engine's own behaviour.</summary>
public sealed class SimulateRealEngineTests
{
    private static (int Code, string Output, string Error) Heki(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void A_tiny_run_reports_and_its_record_replays_without_errors()
    {
        using var folder = new TempFolder();
        var record = folder.File("tiny.jsonl");
        var report = folder.File("tiny.json");

        var (code, output, error) = Heki("simulate", "--kernel", "synthetic", "--vms", "2", "--memory-mb", "64", "--accesses-per-vcpu", "2000",
            "--rounds", "2", "--profile", "both", "--record", record, "--report", report, "--no-progress");

        Assert.True(code == 0, error);
        Assert.Contains("attacks succeeded: hardened", output);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        Assert.Equal(2, json.RootElement.GetProperty("runs").GetArrayLength());
        foreach (var profile in new[] { "hardened", "heki-v2" })
        {
            var path = folder.File($"tiny.{profile}.jsonl");
            Assert.StartsWith("# heki simulate:", File.ReadLines(path).First());
            var replay = Heki("replay", path, "--profile", profile);
            Assert.True(replay.Code == 0, replay.Output.Split('\n').FirstOrDefault(l => l.Contains("\"error\"")) ?? replay.Error);
        }
    }
}
