using System.CommandLine;
using System.Text.Json;
using HekiActors.Cli.Replay;
using HekiActors.Memory;
using HekiActors.Simulation.Tests.Kernels;

namespace HekiActors.Cli.Tests;

/// <summary>
/// <c>heki simulate --kernel --modules</c> on Debian's package: a run that loads and unloads more than a hundred real
/// modules with their real sizes, whose recording <c>heki replay</c> reproduces result for result.
/// </summary>
public sealed class SimulateRealKernelTests
{
    private static (int Code, string Output, string Error) Heki(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    /// <summary><c>heki replay FILE --profile P</c>, its output captured.</summary>
    private static (int Code, string Output, string Error) Replay(string path, string profile)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(HekiProfiles.TryParse(profile, out var chosen));
        var code = ReplayRunner.RunAsync(path, chosen, Stream.Null, output, error).GetAwaiter().GetResult();
        return (code, output.ToString(), error.ToString());
    }

    [SkippableFact]
    public void A_run_on_the_package_loads_and_unloads_real_modules_and_its_recording_replays_identically()
    {
        DebianKernelPackage.Require();
        using var folder = new TempFolder();
        var record = folder.File("debian.jsonl");
        var report = folder.File("debian.json");

        // 2 VMs x 60 run modules over 10 rounds: 120 loads, each unloaded a round later except the last round's 12.
        var (code, output, error) = Heki("simulate", "--kernel", DebianKernelPackage.BzImage, "--modules", DebianKernelPackage.Modules,
            "--vms", "2", "--vcpus", "1", "--memory-mb", "256", "--rounds", "10", "--boot-modules", "6", "--run-modules", "60",
            "--accesses-per-vcpu", "500", "--profile", "both", "--record", record, "--report", report, "--no-progress");

        Assert.True(code == 0, error);
        Assert.Contains("guest kernel: vmlinuz-6.1.0-47-amd64 (bzImage (xz)), modules at boot 6, during the run 60", output);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        foreach (var run in json.RootElement.GetProperty("runs").EnumerateArray())
        {
            var kernel = run.GetProperty("guest_kernel");
            var loads = kernel.GetProperty("module_loads");
            var unloads = kernel.GetProperty("module_unloads");
            Assert.Equal(2 * (6 + 60), loads.GetProperty("total").GetInt64());
            Assert.Equal(0, loads.GetProperty("failed").GetInt64());
            Assert.Equal(2 * (60 - 6), unloads.GetProperty("total").GetInt64());
            Assert.True(unloads.GetProperty("total").GetInt64() >= 100);
            Assert.Equal(unloads.GetProperty("total").GetInt64(), unloads.GetProperty("immutable_release_refused").GetInt64());
            Assert.Equal(4, kernel.GetProperty("per_boot").GetProperty("ranges").GetDouble());
            Assert.Equal(0, kernel.GetProperty("boot_protect_failures").GetInt64());
        }

        foreach (var profile in new[] { "hardened", "heki-v2" })
        {
            var path = folder.File($"debian.{profile}.jsonl");
            var lines = File.ReadAllLines(path);
            var (replayCode, replayOutput, replayError) = Replay(path, profile);
            Assert.True(replayCode == 0, replayOutput.Split('\n').FirstOrDefault(l => l.Contains("\"error\"")) ?? replayError);
            var results = replayOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
                .ToDictionary(r => r.GetProperty("line").GetInt32());
            var compared = 0;
            var moduleLoads = 0;
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].StartsWith('#') || lines[i].Length == 0)
                    continue;
                var recorded = JsonDocument.Parse(lines[i]).RootElement;
                if (!recorded.TryGetProperty("observed", out var observed))
                    continue;
                var got = results[i + 1];
                var replayed = got.TryGetProperty("ret", out var ret) ? ret.ToString() : got.GetProperty("result").GetString();
                Assert.True(observed.ToString() == replayed, $"{profile} line {i + 1}: recorded {observed}, replayed {replayed}");
                compared++;
                if (recorded.TryGetProperty("event", out var ev) && ev.GetString() == "module_load")
                    moduleLoads++;
            }

            Assert.Equal(2 * (6 + 60), moduleLoads);
            Assert.True(compared > 500, $"{compared} recorded results compared");
        }
    }
}
