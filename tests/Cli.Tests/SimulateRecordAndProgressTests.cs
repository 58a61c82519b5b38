using HekiActors.Simulation;
using HekiActors.Cli.Simulate;
using HekiActors.Memory;

namespace HekiActors.Cli.Tests;

public sealed class SimulateRecordAndProgressTests
{
    [Fact]
    public void The_recorder_writes_a_header_then_one_line_per_call_and_closes()
    {
        using var folder = new TempFolder();
        var path = folder.File("r.jsonl");
        var spec = SimulationSpec.Default(HekiProfile.HekiV2) with { Seed = 42 };

        using (var recorder = new RecordFileWriter(path, "attack-heavy", spec))
        {
            recorder.Record("{\"op\":\"create_vm\",\"vm\":\"a\",\"memory_mb\":64,\"vcpus\":2}");
            recorder.Record("{\"op\":\"access\",\"vm\":\"a\",\"vcpu\":1,\"gpa\":8192,\"kind\":\"write\"}");
            Assert.Equal(2, recorder.Lines);
        }

        var text = File.ReadAllText(path);
        Assert.Equal(
            "# heki simulate: scenario attack-heavy, seed 42, profile heki-v2, 300 VMs x 2 vCPUs x 1024 MiB, mbec true, 10 rounds; " +
            "reproduce with: heki replay FILE --profile heki-v2\n" +
            "{\"op\":\"create_vm\",\"vm\":\"a\",\"memory_mb\":64,\"vcpus\":2}\n" +
            "{\"op\":\"access\",\"vm\":\"a\",\"vcpu\":1,\"gpa\":8192,\"kind\":\"write\"}\n",
            text);
    }

    [Fact]
    public void The_recorder_is_safe_from_many_threads_and_ignores_calls_after_closing()
    {
        var writer = new StringWriter();
        var recorder = new RecordFileWriter(writer, "s", SimulationSpec.Default());

        Parallel.For(0, 8, t =>
        {
            for (var i = 0; i < 1000; i++)
            {
                recorder.Record($"{{\"op\":\"read_cr\",\"vm\":\"t{t}\",\"vcpu\":0,\"cr\":{i}}}");
            }
        });
        var text = writer.ToString();
        recorder.Dispose();
        recorder.Record("{\"late\":true}");

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8001, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Matches("^\\{\"op\":\"read_cr\",\"vm\":\"t[0-7]\",\"vcpu\":0,\"cr\":[0-9]+\\}$", l));
        Assert.Equal(8000, lines.Skip(1).Distinct().Count());
        Assert.Equal(8000, recorder.Lines);
    }

    [Fact]
    public void Per_profile_paths_insert_the_profile_before_the_extension()
    {
        Assert.Equal("run.heki-v2.jsonl", Scenario.PerProfilePath("run.jsonl", HekiProfile.HekiV2));
        Assert.Equal(Path.Combine("out", "run.hardened"), Scenario.PerProfilePath(Path.Combine("out", "run"), HekiProfile.Hardened));
    }

    private static SimulationProgress At(double seconds, string phase = "workload", long accesses = 0) =>
        new(phase, 10, 10, accesses, 1, 2, 0, TimeSpan.FromSeconds(seconds), 0.5);

    [Theory]
    [InlineData(false, "done     [####################] 100%")]
    [InlineData(true, "stopped  [#####...............]  25%")]
    public void The_last_line_of_a_stopped_run_says_it_stopped_with_the_fraction_it_reached(bool stopped, string last)
    {
        var writer = new StringWriter();
        var display = new ProgressDisplay(writer, live: false, stopped: () => stopped);

        display.Report(At(0.0, "run") with { Fraction = 0.1 });
        display.Report(At(2.5, "run") with { Fraction = 0.25 });
        // The engine's last snapshot: the report's figures, at 100% however the run ended.
        display.Report(At(2.6, "done") with { Fraction = 1 });
        display.Complete();

        Assert.StartsWith(last, writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    public void Plain_progress_writes_a_line_every_two_seconds_and_at_each_phase_change()
    {
        var writer = new StringWriter();
        var display = new ProgressDisplay(writer, live: false);

        display.Report(At(0.0, "boot"));
        display.Report(At(0.5, "boot"));
        display.Report(At(1.0, "workload"));
        display.Report(At(1.5));
        display.Report(At(2.5));
        display.Report(At(3.0));
        display.Report(At(3.5));
        display.Complete();

        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // boot at 0, workload at 1.0 (phase change), 3.0 (two seconds on), and the last state at completion.
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("boot", lines[0]);
        Assert.Contains("  1.0s  ", lines[1]);
        Assert.Contains("  3.0s  ", lines[2]);
        Assert.Contains("  3.5s  ", lines[3]);
        Assert.DoesNotContain("\r", writer.ToString());
    }

    [Fact]
    public void Live_progress_redraws_one_line_and_ends_it()
    {
        var writer = new StringWriter();
        var display = new ProgressDisplay(writer, live: true, label: "hardened", width: 200);

        display.Report(At(0.5, accesses: 1_000));
        display.Report(At(1.0, accesses: 2_000_000));
        display.Complete();

        var text = writer.ToString();
        Assert.Equal(2, text.Count(c => c == '\r'));
        Assert.EndsWith(Environment.NewLine, text);
        Assert.Contains("[hardened] workload [##########..........]  50%  1.0s  VMs 10/10  accesses 2.0 M", text);
    }

    [Fact]
    public void Live_lines_are_cut_to_the_terminal_width()
    {
        var writer = new StringWriter();
        var display = new ProgressDisplay(writer, live: true, width: 50);

        display.Report(At(1.0, accesses: 5));

        Assert.Equal(50, writer.ToString().Length); // "\r" + 49 characters
    }

    [Fact]
    public void The_status_names_every_figure()
    {
        var status = ProgressDisplay.Format(new SimulationProgress("attack", 3, 4, 12_345, 6, 7, 8, TimeSpan.FromSeconds(2.25), 0.25), 61_700_000);

        Assert.Equal("attack   [#####...............]  25%  2.3s  VMs 3/4  accesses 12.3 k (61.7 M/s)  violations 6  attacks blocked 7  attacks succeeded 8", status);
    }
}
