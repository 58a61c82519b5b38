using System.Runtime.InteropServices;
using System.Text.Json;

namespace HekiActors.Cli.Tests.Chaos;

/// <summary>
/// <c>heki chaos --sqlite-path</c> holds the journal's lock as <c>heki simulate</c> does (docs/reliability.md, "One process
/// at a time"): a chaos run on a journal another process holds is refused with 75 before it starts or writes anything, and
/// a simulation, a listing or another chaos run on the journal of a running chaos run is refused the same way. With
/// <c>--kill-process</c> each child holds the lock for its life and the next takes it after the kill.
/// The holders are real processes; the refused commands run in this process (the lock conflicts there too).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ChaosJournalLockTests : IDisposable
{
    private static readonly string[] Small = ["--vms", "2", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic", "--duration", "1s", "--no-progress"];

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("--acknowledgements|c.acks")]
    [InlineData("--kill-process|1")]
    public void A_chaos_run_on_a_journal_a_simulation_holds_is_refused_with_75_naming_it_and_writes_nothing(string extra)
    {
        using var simulation = HekiProcess.Start(_folder.Path,
            ["simulate", "--sqlite-path", "held.db", "--vms", "2", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic", "--duration", "5m", "--no-progress"]);
        simulation.StandardInput.Close();
        var journal = _folder.File("held.db");
        WaitForHolder(journal, simulation, "heki simulate, started ");

        string[] options = extra.Length == 0 ? [] : extra.Split('|');
        if (options is ["--acknowledgements", var log])
            options = ["--acknowledgements", _folder.File(log)];
        var (status, stdout, stderr) = ChaosCommandTests.Run(
            ["chaos", "--duration", "30s", "--vms", "1", "--sqlite-path", journal, "--findings", _folder.File("f"), "--report", _folder.File("r.json"), .. options]);

        Assert.Equal(ExitCodes.JournalInUse, status);
        Assert.StartsWith($"heki chaos: journal {journal} is in use by process {simulation.Id} (heki simulate, started ", stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", stdout);
        foreach (var written in new[] { "f", "r.json", "c.acks", "held.db.acks" })
            Assert.False(Path.Exists(_folder.File(written)), $"{written} was created");

        // The simulation goes on untouched: its VMs write their events (a SIGTERM before its run begins would end it
        // without a report), then it stops and reports.
        WaitForEvents(journal, simulation);
        simulation.Signal(PosixSignal.SIGTERM);
        Assert.Equal(143, simulation.WaitForExit());
        Assert.Contains("attacks succeeded: hardened 0", simulation.Stdout);
    }

    [Fact]
    public void A_simulation_a_listing_or_another_chaos_run_on_the_journal_of_a_running_chaos_run_is_refused_with_75_naming_it()
    {
        using var chaos = HekiProcess.Start(_folder.Path, "chaos", "--duration", "5m", "--vms", "2", "--sqlite-path", "c.db",
            "--acknowledgements", "c.acks", "--findings", "f", "--report", "r.json");
        var journal = _folder.File("c.db");
        WaitForHolder(journal, chaos, "heki chaos, started ");
        // Once the file exists (before that, heki journal says "does not exist").
        WaitForEvents(journal, chaos);
        var holder = $"is in use by process {chaos.Id} (heki chaos, started ";

        foreach (var (command, args) in new (string, string[])[]
                 {
                     ("journal", ["journal", journal]),
                     ("simulate", ["simulate", "--sqlite-path", journal, "--resume", .. Small]),
                     ("simulate", ["simulate", "--sqlite-path", journal, "--fresh", .. Small]),
                     ("chaos", ["chaos", "--operations", "20", "--vms", "1", "--sqlite-path", journal, "--acknowledgements", _folder.File("other.acks")]),
                 })
        {
            var (status, stdout, stderr) = ChaosCommandTests.Run(args);
            Assert.True(status == ExitCodes.JournalInUse, $"{string.Join(' ', args)}: exit {status}\n{stderr}");
            Assert.StartsWith($"heki {command}: journal {journal} {holder}", stderr);
            Assert.Single(stderr.TrimEnd('\n').Split('\n'));
            Assert.Equal("", stdout);
        }

        Assert.False(File.Exists(_folder.File("other.acks")));

        // The chaos run goes on untouched, then lets the journal go.
        chaos.WaitForOutput("heki chaos: hardened ");
        chaos.Signal(PosixSignal.SIGTERM);
        Assert.True(chaos.WaitForExit(TimeSpan.FromMinutes(2)) == 143, chaos.Stderr);
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        var run = Assert.Single(report.RootElement.EnumerateArray().ToList());
        Assert.Equal(0, run.GetProperty("invariant_violations").GetInt64());
        Assert.Equal(0, run.GetProperty("lost_acknowledged_changes").GetInt64());
        Assert.Equal("", File.ReadAllText(journal + ".lock"));
        var listing = ChaosCommandTests.Run("journal", journal);
        Assert.True(listing.Status == ExitCodes.Ok, listing.Stderr);
    }

    [Fact]
    public void Each_kill_process_child_holds_the_journal_for_its_life_and_the_next_takes_it_after_the_SIGKILL()
    {
        using var parent = HekiProcess.Start(_folder.Path, "chaos", "--kill-process", "1", "--duration", "5m", "--vms", "2",
            "--sqlite-path", "k.db", "--findings", "f", "--report", "r.json");
        var journal = _folder.File("k.db");
        var first = WaitForHolder(journal, parent, $"heki chaos, a --kill-process child of process {parent.Id}, started ");
        Assert.NotEqual(parent.Id, first);

        var (status, _, stderr) = ChaosCommandTests.Run(["simulate", "--sqlite-path", journal, "--resume", .. Small]);
        Assert.True(status == ExitCodes.JournalInUse, stderr);
        Assert.Contains($"is in use by process {first} (heki chaos, a --kill-process child of process {parent.Id}, started ", stderr);

        // The kernel dropped the killed child's lock: the next child holds the journal.
        parent.WaitForOutput($"killed process {first} with SIGKILL");
        var second = WaitForHolder(journal, parent, $"heki chaos, a --kill-process child of process {parent.Id}, started ", unlike: first);
        Assert.NotEqual(parent.Id, second);

        parent.WaitForOutput("heki chaos: hardened ");
        parent.Signal(PosixSignal.SIGTERM);
        Assert.True(parent.WaitForExit(TimeSpan.FromMinutes(2)) == 143, parent.Stderr);
        Assert.Equal("", File.ReadAllText(journal + ".lock"));
    }

    [Fact]
    public void A_report_on_the_journals_lock_file_is_refused_before_anything_is_written()
    {
        var journal = _folder.File("k.db");
        var (status, stdout, stderr) = ChaosCommandTests.Run("chaos", "--operations", "20", "--vms", "1", "--sqlite-path", journal,
            "--report", journal + ".lock", "--findings", _folder.File("f"));
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal("", stdout);
        Assert.Contains("the journal's lock file", stderr);
        Assert.False(File.Exists(journal) || File.Exists(journal + ".lock"), "nothing may be created before the run");
    }

    /// <summary>Waits until the journal's holder has written events to it (SQLite's write-ahead log is not empty).</summary>
    private static void WaitForEvents(string journal, HekiProcess process)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(new FileInfo(journal + "-wal") is { Exists: true, Length: > 0 }))
        {
            Assert.True(clock.Elapsed < HekiProcess.DefaultTimeout, $"no event was written.\nstderr:\n{process.Stderr}");
            Thread.Sleep(10);
        }
    }

    /// <summary>Waits until the journal's lock file names a process (other than <paramref name="unlike"/>) running <paramref name="owner"/>; returns its id.</summary>
    private static int WaitForHolder(string journal, HekiProcess process, string owner, int unlike = 0)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var text = File.Exists(journal + ".lock") ? File.ReadAllText(journal + ".lock") : "";
            var lines = text.Split('\n');
            if (lines.Length > 1 && lines[1].StartsWith(owner, StringComparison.Ordinal) && int.TryParse(lines[0], out var pid) && pid != unlike)
                return pid;
            Assert.True(clock.Elapsed < HekiProcess.DefaultTimeout, $"gave up waiting for the lock.\nlock file: {text}\nstderr:\n{process.Stderr}");
            Thread.Sleep(10);
        }
    }
}
