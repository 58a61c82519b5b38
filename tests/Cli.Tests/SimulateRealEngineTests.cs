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

    [Fact]
    public void A_scenario_with_a_chaos_section_reports_the_faults_it_injected_by_kind()
    {
        using var folder = new TempFolder();
        var scenario = folder.File("chaos.yaml");
        File.WriteAllText(scenario, "chaos:\n  faults: [drop_reply, duplicate, crash_vcpu, clock_skew]\n  rate: 0.2\n");
        var report = folder.File("chaos.json");

        var (code, output, error) = Heki("simulate", scenario, "--kernel", "synthetic", "--vms", "2", "--memory-mb", "64",
            "--accesses-per-vcpu", "2000", "--rounds", "2", "--report", report, "--no-progress");

        Assert.True(code == 0, error);
        Assert.Contains("chaos: hardened: ", output);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var chaos = json.RootElement.GetProperty("runs")[0].GetProperty("chaos");
        Assert.Equal(["drop_reply", "duplicate", "crash_vcpu", "clock_skew"], chaos.GetProperty("faults").EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.2, chaos.GetProperty("rates").GetProperty("crash_vcpu").GetDouble());
        var total = chaos.GetProperty("faults").EnumerateObject().Sum(p => p.Value.GetInt64());
        Assert.True(total > 0);
        Assert.Equal(total, chaos.GetProperty("faults_injected").GetInt64());
        Assert.Contains($"{total} faults injected (drop_reply ", output);
    }
}
