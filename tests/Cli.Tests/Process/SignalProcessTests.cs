using System.Runtime.InteropServices;
using System.Text.Json;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 8, item 14, with real signals: SIGTERM (and SIGHUP) behave like Ctrl+C (stop, report what ran, exit 128 + the
/// signal); a second signal ends the process at once; stopped during boot, the report says how many VMs booted.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SignalProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(PosixSignal.SIGTERM, 143, "SIGTERM")]
    [InlineData(PosixSignal.SIGINT, 130, "Ctrl+C")]
    [InlineData(PosixSignal.SIGHUP, 129, "SIGHUP")]
    public void A_stop_signal_ends_simulate_with_the_report_of_what_ran(PosixSignal signal, int status, string name)
    {
        // A long run: the signal, not the duration, ends it.
        using var heki = HekiProcess.Start(_folder.Path, "simulate", "--vms", "4", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic", "--duration", "10m",
            "--report", "-");
        heki.StandardInput.Close();
        heki.WaitForOutput("run      ["); // progress (plain lines: stderr is a pipe) says the workload is running

        heki.Signal(signal);

        Assert.Equal(status, heki.WaitForExit());
        Assert.Contains($"heki simulate: {name}: stopping, then reporting what ran", heki.Stderr);
        using var report = JsonDocument.Parse(heki.Stdout);
        Assert.True(report.RootElement.GetProperty("stopped_early").GetBoolean());
        var run = report.RootElement.GetProperty("runs")[0];
        Assert.Equal(4, run.GetProperty("vms_booted").GetInt32());
        Assert.Equal(0, run.GetProperty("vms_unfinished").GetInt32());
        Assert.True(run.GetProperty("elapsed_seconds").GetDouble() < 600);
        // The last progress line says the run stopped, at the fraction of the 10 minutes it reached (it said "done 100%").
        var last = heki.Stderr.Split('\n').Last(l => l.Contains("%  ", StringComparison.Ordinal));
        Assert.Matches(@"^stopped  \[[#.]{20}\] +\d+%  ", last);
        Assert.DoesNotContain("100%", last);
    }

    [Fact]
    public void A_second_signal_ends_simulate_at_once()
    {
        // A SQLite journal and many VMs make the orderly stop slow (pending journal writes, shutdown): the second signal
        // must not wait for it. 3,000 VMs: the journal batches their boots' writes, and 300 boot before the first
        // progress line (issue 11).
        using var heki = HekiProcess.Start(_folder.Path, "simulate", "--sqlite-path", "j.db", "--vms", "3000", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic",
            "--duration", "10m");
        heki.StandardInput.Close();
        heki.WaitForOutput("boot     [");
        heki.Signal(PosixSignal.SIGTERM);
        heki.WaitForOutput("heki simulate: SIGTERM: stopping");

        heki.Signal(PosixSignal.SIGINT);

        Assert.Equal(130, heki.WaitForExit());
        Assert.DoesNotContain("attacks succeeded", heki.Stdout);
    }

    [Fact]
    public void Stopped_during_boot_the_report_says_how_many_VMs_booted()
    {
        // 3,000 VMs on a SQLite journal take seconds to boot (300 boot in about one: issue 11 batches their journal
        // writes); the signal comes at the first progress line.
        using var heki = HekiProcess.Start(_folder.Path, "simulate", "--sqlite-path", "j.db", "--vms", "3000", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic",
            "--duration", "10m", "--report", "-");
        heki.StandardInput.Close();
        heki.WaitForOutput("boot     [");

        heki.Signal(PosixSignal.SIGINT);

        Assert.Equal(130, heki.WaitForExit());
        using var report = JsonDocument.Parse(heki.Stdout);
        Assert.True(report.RootElement.GetProperty("stopped_early").GetBoolean());
        var run = report.RootElement.GetProperty("runs")[0];
        var booted = run.GetProperty("vms_booted").GetInt32();
        Assert.InRange(booted, 0, 2_999);
        Assert.Equal(0, run.GetProperty("vms_unfinished").GetInt32());
        // The progress line and the report agree on what booted (failed or abandoned boots are not counted).
        Assert.Contains($"VMs {booted.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}/3,000", heki.Stderr.Split('\n').Last(l => l.StartsWith("stopped ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(PosixSignal.SIGTERM, 143)]
    [InlineData(PosixSignal.SIGINT, 130)]
    public void A_stop_signal_ends_replay_waiting_for_input_after_the_lines_it_answered(PosixSignal signal, int status)
    {
        using var heki = HekiProcess.Start(_folder.Path, "replay", "-");
        heki.StandardInput.WriteLine("""{"op":"create_vm","vm":"a","memory_mb":64,"vcpus":2}""");
        heki.StandardInput.Flush();
        heki.WaitForOutput("{\"line\":1,\"ok\":true}", onStderr: false);

        // Standard input stays open and empty: replay is blocked reading it.
        heki.Signal(signal);

        Assert.Equal(status, heki.WaitForExit());
        Assert.Equal("{\"line\":1,\"ok\":true}\n", heki.Stdout);
        Assert.Equal("heki replay: stopped after line 1\n", heki.Stderr);
    }
}
