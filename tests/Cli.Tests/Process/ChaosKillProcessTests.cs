using System.Text.Json;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 12, done when: a test kills the process with SIGKILL mid-run on the SQLite journal and checks after restart
/// that every acknowledged protection and pin is in force. <c>heki chaos --kill-process 2</c> is the parent a user's
/// supervisor would be: it kills its child <c>heki chaos</c> twice with SIGKILL and starts it again on the same journal;
/// each restarted child rebuilds the oracle from the acknowledgement log and probes every acknowledged protection,
/// register and pin of its VMs. Afterwards <c>heki journal</c> (a reader independent of the oracle) shows every VM the
/// log says exists, with exactly the pins the log says were acknowledged since its last create.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ChaosKillProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_chaos_run_killed_twice_with_SIGKILL_keeps_every_acknowledged_protection_and_pin()
    {
        var (status, output, error) = HekiProcess.Run(
            ["chaos", "--profile", "hardened", "--kill-process", "2", "--operations", "500", "--vms", "3", "--rate", "0.03",
                "--sqlite-path", "k.db", "--findings", "f", "--report", "r.json"],
            _folder.Path, timeout: TimeSpan.FromMinutes(4));

        Assert.True(status == 0, $"exit {status}\n{output}\n{error}");
        Assert.Equal(2, error.Split('\n').Count(line => line.Contains("with SIGKILL", StringComparison.Ordinal)));
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        var run = Assert.Single(report.RootElement.EnumerateArray().ToList());
        Assert.Equal(2, run.GetProperty("restarts").GetInt32());
        Assert.True(run.GetProperty("probes_after_restart").GetInt64() > 0, "no acknowledged change was probed after a restart");
        Assert.Equal(0, run.GetProperty("invariant_violations").GetInt64());
        Assert.Equal(0, run.GetProperty("lost_acknowledged_changes").GetInt64());
        Assert.True(run.GetProperty("faults_injected").GetInt64() > 0);
        TheReportDescribesEveryProcess(run, output, error);

        // Independently of the oracle: the journal holds what the log says was acknowledged.
        var expected = AcknowledgedPins(_folder.File("k.db.acks"));
        var (journalStatus, journal, journalError) = HekiProcess.Run(["journal", "k.db", "--json"], _folder.Path);
        Assert.True(journalStatus == 0, journalError);
        using var listed = JsonDocument.Parse(journal);
        var existing = listed.RootElement.GetProperty("vms").EnumerateArray()
            .Where(vm => vm.GetProperty("exists").GetBoolean())
            .ToDictionary(vm => vm.GetProperty("vm").GetString()!, vm => (vm.GetProperty("cr0_pins").GetUInt64(), vm.GetProperty("cr4_pins").GetUInt64()));
        Assert.Equal(expected.Keys.Order(), existing.Keys.Order());
        foreach (var (vm, pins) in expected)
            Assert.Equal(pins, existing[vm]);
    }

    /// <summary>
    /// QA M5: --kill-process ignored --duration (--kill-process 1000000 --duration 1s never ended; each late child got a
    /// whole second more). Once the time is spent no child is killed or started again: the one running is the last, and
    /// the report says how many of the kills asked happened.
    /// </summary>
    [Fact]
    public void A_kill_process_run_ends_when_its_duration_is_spent_and_its_report_says_how_many_of_the_kills_asked_happened()
    {
        var (status, output, error) = HekiProcess.Run(
            ["chaos", "--profile", "hardened", "--kill-process", "1000000", "--duration", "2s", "--vms", "2",
                "--sqlite-path", "k.db", "--findings", "f", "--report", "r.json"],
            _folder.Path, timeout: TimeSpan.FromMinutes(3));

        Assert.True(status == 0, $"exit {status}\n{output}\n{error}");
        var kills = error.Split('\n').Count(line => line.StartsWith("heki chaos: killed process ", StringComparison.Ordinal));
        Assert.Contains($"heki chaos: --duration spent after {kills} of 1000000 kills; process ", error);
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        var run = Assert.Single(report.RootElement.EnumerateArray().ToList());
        Assert.Equal(1_000_000, run.GetProperty("kills_asked").GetInt32());
        Assert.Equal(kills, run.GetProperty("restarts").GetInt32());
        Assert.Equal(0, run.GetProperty("invariant_violations").GetInt64());
        Assert.Equal(0, run.GetProperty("lost_acknowledged_changes").GetInt64());
        var processes = run.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(kills + 1, processes.Count);
        Assert.Equal("ran to the end", processes[^1].GetProperty("ended").GetString());
        Assert.Matches($@"^heki chaos: hardened, seed 1, [0-9.]+ s in {kills + 1} processes \({kills} killed with SIGKILL of 1,000,000 kills asked\)$",
            output.Split('\n')[0]);
    }

    /// <summary>The signal reaches the parent alone (kill PID, timeout(1)): without passing it on, the child would run its 5 minutes.</summary>
    [Theory]
    // While the child runs its chaos loop.
    [InlineData("heki chaos: hardened ")]
    // Right after a kill, while the parent starts a new child whose runtime has no SIGTERM handler of ours yet: a stop
    // passed on at once would end it by the default action, without a report.
    [InlineData("starting it again on the same journal")]
    public void SIGTERM_to_the_parent_of_a_kill_process_run_stops_its_child_which_writes_its_report_and_the_parent_exits_143(string when)
    {
        using var parent = HekiProcess.Start(_folder.Path, "chaos", "--kill-process", "1", "--duration", "5m", "--vms", "2",
            "--sqlite-path", "k.db", "--findings", "f", "--report", "r.json");
        parent.WaitForOutput(when);
        parent.Signal(System.Runtime.InteropServices.PosixSignal.SIGTERM);
        var status = parent.WaitForExit(TimeSpan.FromMinutes(2));
        Assert.True(status == 143, $"exit {status}\n{parent.Stderr}");
        Assert.True(File.Exists(_folder.File("r.json")), $"no report\n{parent.Stderr}");
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        var run = Assert.Single(report.RootElement.EnumerateArray().ToList());
        Assert.Equal(0, run.GetProperty("invariant_violations").GetInt64());
        Assert.Equal("stopped by a signal", run.GetProperty("processes").EnumerateArray().Last().GetProperty("ended").GetString());
    }

    /// <summary>
    /// The report's header and elapsed time cover the whole run, as its counts do: every process with its pid and how it
    /// ended (a killed one with the kill point the parent printed), and the time from the first process's start (they
    /// covered the last child alone).
    /// </summary>
    private static void TheReportDescribesEveryProcess(JsonElement run, string output, string error)
    {
        var kills = error.Split('\n').Where(line => line.StartsWith("heki chaos: killed process ", StringComparison.Ordinal))
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, @"killed process (\d+) with SIGKILL after (\d+) more log lines \(the seed's least: (\d+);"))
            .Select(m => (Pid: int.Parse(m.Groups[1].Value), Lines: long.Parse(m.Groups[2].Value), Least: long.Parse(m.Groups[3].Value)))
            .ToList();
        var processes = run.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(kills.Count + 1, processes.Count);
        for (var i = 0; i < kills.Count; i++)
        {
            Assert.Equal(i + 1, processes[i].GetProperty("number").GetInt32());
            Assert.Equal("killed", processes[i].GetProperty("ended").GetString());
            Assert.Equal(kills[i], (processes[i].GetProperty("pid").GetInt32(), processes[i].GetProperty("log_lines").GetInt64(),
                processes[i].GetProperty("least_log_lines").GetInt64()));
        }

        Assert.Equal("ran to the end", processes[^1].GetProperty("ended").GetString());
        Assert.Equal(JsonValueKind.Null, processes[^1].GetProperty("log_lines").ValueKind);
        // The whole run holds every process's time (the process start times the kernel keeps are in 10 ms ticks).
        var elapsed = run.GetProperty("elapsed_seconds").GetDouble();
        var sum = processes.Sum(p => p.GetProperty("seconds").GetDouble());
        Assert.True(elapsed >= sum - 0.05, $"elapsed_seconds {elapsed} is less than its processes' {sum}");
        Assert.True(elapsed > processes[^1].GetProperty("seconds").GetDouble(), "elapsed_seconds is the last process's alone");

        var lines = output.Split('\n');
        Assert.Matches($@"^heki chaos: hardened, seed 1, [0-9.]+ s in {kills.Count + 1} processes \({kills.Count} killed with SIGKILL of 2 kills asked\)$", lines[0]);
        for (var i = 0; i < kills.Count; i++)
            Assert.Matches($@"^  process {i + 1} +pid {kills[i].Pid} +[0-9.]+ s  killed after {kills[i].Lines:N0} log lines \(the seed's least: {kills[i].Least:N0}\)$", lines[i + 1]);
        Assert.Matches($@"^  process {kills.Count + 1} +pid \d+ +[0-9.]+ s  ran to the end$", lines[kills.Count + 1]);
    }

    /// <summary>The VMs whose last acknowledged lifecycle operation was a create, with the pins acknowledged since.</summary>
    private static Dictionary<string, (ulong Cr0, ulong Cr4)> AcknowledgedPins(string log)
    {
        var vms = new Dictionary<string, (ulong Cr0, ulong Cr4)>();
        var lines = File.ReadAllText(log).Split('\n');
        foreach (var line in lines[..^1])
        {
            using var document = JsonDocument.Parse(line);
            if (!document.RootElement.TryGetProperty("request", out var request))
                continue;
            var result = document.RootElement.GetProperty("result");
            var vm = request.GetProperty("vm").GetString()!;
            switch (request.GetProperty("op").GetString())
            {
                case "create_vm" when result.TryGetProperty("ok", out _):
                    vms.TryAdd(vm, (0, 0));
                    break;
                case "destroy_vm" when result.TryGetProperty("ok", out _):
                    vms.Remove(vm);
                    break;
                case "lock_cr" when result.TryGetProperty("ret", out var ret) && ret.GetInt64() == 0 && vms.ContainsKey(vm):
                    var pin = request.GetProperty("pin").GetUInt64();
                    vms[vm] = request.GetProperty("cr").GetInt32() == 0 ? (vms[vm].Cr0 | pin, vms[vm].Cr4) : (vms[vm].Cr0, vms[vm].Cr4 | pin);
                    break;
            }
        }

        return vms;
    }
}
