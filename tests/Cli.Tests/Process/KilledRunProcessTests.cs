using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 8 item 4, done when: a <c>heki simulate --journal sqlite</c> run killed with SIGKILL mid-run leaves a journal in
/// which <c>heki journal</c> lists every VM whose protection the run acknowledged, with its ranges and pins; the next run
/// on that journal refuses until told (exit 2, naming <c>--resume</c> and <c>--fresh</c>); <c>--resume</c> takes the VMs
/// over and its recording replays to the same results; <c>--fresh</c> starts over, says so, and records nothing of it.
/// </summary>
/// <remarks>
/// What the killed run acknowledged is read from its <c>--record</c> file: a guest records an operation's line only once
/// the model answered it, and the model answers a change only once its event is in the journal. The file is flushed in
/// 64 KiB blocks, so it holds a prefix of what was acknowledged (its last line may be cut short): every line in it was
/// acknowledged. Nothing waits on the clock: the tests poll the file until it shows the state they need, with a deadline.
/// </remarks>
[Collection(ProcessCollection.Name)]
public sealed class KilledRunProcessTests : IDisposable
{
    private const int KilledVms = 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// Starts a run of <see cref="KilledVms"/> VMs bounded by 5 minutes on k.db, recording to k.jsonl; once the recording
    /// shows every VM booted (protected and pinned) and past its first kernel event between rounds (the run is mid-run),
    /// kills it with SIGKILL.
    /// </summary>
    private void KilledRun()
    {
        using var heki = HekiProcess.Start(_folder.Path, "simulate", "--vms", $"{KilledVms}", "--vcpus", "1", "--memory-mb", "16", "--kernel", "synthetic",
            "--rounds", "100000", "--duration", "5m", "--sqlite-path", "k.db", "--record", "k.jsonl", "--no-progress");
        heki.StandardInput.Close();
        var clock = Stopwatch.StartNew();
        while (!MidRun(Recorded("k.jsonl")))
        {
            Assert.True(clock.Elapsed < Deadline, $"the recording never showed {KilledVms} VMs past their first round:\n{heki.Stderr}");
            Thread.Sleep(100); // polling a file another process writes: nothing to be woken by
        }

        heki.Signal((PosixSignal)9);
        Assert.Equal(128 + 9, heki.WaitForExit());
        Assert.Equal("", heki.Stdout); // killed, not finished: no report
    }

    private static bool MidRun(List<JsonElement> recorded)
    {
        var pinned = recorded.Where(r => Op(r) == "lock_cr" && r.GetProperty("observed").GetInt64() == 0).Select(Vm).Distinct().Count();
        var pastFirstRound = recorded.Where(r => r.TryGetProperty("event", out _)).Select(Vm).Distinct().Count();
        return pinned == KilledVms && pastFirstRound == KilledVms;
    }

    /// <summary>The complete lines of a recording (a killed run may have cut its last line short), without the header.</summary>
    private List<JsonElement> Recorded(string name)
    {
        var path = _folder.File(name);
        if (!File.Exists(path))
            return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lines = new StreamReader(stream).ReadToEnd().Split('\n');
        // The last piece has no line end yet: it may be a line cut in the middle.
        return lines[..^1].Where(line => line.StartsWith('{')).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private static string Op(JsonElement line) => line.GetProperty("op").GetString()!;

    private static string Vm(JsonElement line) => line.GetProperty("vm").GetString()!;

    private static ulong U(JsonElement e, string name) => e.GetProperty(name).GetUInt64();

    /// <summary><c>heki journal k.db --json</c>: the VMs that exist, by id.</summary>
    private Dictionary<string, JsonElement> Journal(string file = "k.db")
    {
        var (status, output, error) = HekiProcess.Run(["journal", file, "--json"], _folder.Path);
        Assert.True(status == ExitCodes.Ok, error);
        return JsonDocument.Parse(output).RootElement.GetProperty("vms").EnumerateArray().Where(vm => vm.GetProperty("exists").GetBoolean())
            .ToDictionary(vm => vm.GetProperty("vm").GetString()!, vm => vm.Clone());
    }

    private static List<(ulong Start, ulong End, ulong Perm)> Ranges(JsonElement vm) =>
        vm.GetProperty("ranges").EnumerateArray().Select(r => (U(r, "start_gfn"), U(r, "end_gfn"), U(r, "perm"))).ToList();

    private string Hash(string name) => File.Exists(_folder.File(name)) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(_folder.File(name)))) : "none";

    [Fact]
    public void After_SIGKILL_heki_journal_lists_every_VM_whose_protection_was_acknowledged_with_its_ranges()
    {
        KilledRun();
        var recorded = Recorded("k.jsonl");
        string[] files = ["k.db", "k.db-journal"];
        var before = files.Select(Hash).ToList();

        var vms = Journal();
        var (textStatus, text, textError) = HekiProcess.Run(["journal", "k.db"], _folder.Path);

        Assert.Equal(before, files.Select(Hash).ToList()); // listing never changes the journal, even one left mid-write
        Assert.True(textStatus == ExitCodes.Ok, textError);
        foreach (var id in recorded.Where(r => Op(r) == "create_vm").Select(Vm))
            Assert.True(vms.ContainsKey(id), $"VM {id} was created but is not in the journal");
        Assert.Equal(KilledVms, vms.Count);

        // Every acknowledged protection is there: an immutable range exactly (nothing can change it), any other range still
        // protected (a later downgrade or release changes its permissions, never back to nothing).
        var protects = recorded.Where(r => Op(r) == "protect" && r.GetProperty("observed").GetInt64() == 0).ToList();
        var checkedRanges = 0;
        foreach (var protect in protects)
        {
            var runs = Ranges(vms[Vm(protect)]);
            foreach (var range in protect.GetProperty("ranges").EnumerateArray())
            {
                var (start, end, perm) = (U(range, "pa") >> 12, U(range, "epa") >> 12, U(range, "perm"));
                for (var gfn = start; gfn < end;)
                {
                    var run = runs.FirstOrDefault(r => r.Start <= gfn && gfn < r.End);
                    Assert.True(run.End > gfn, $"gfn 0x{gfn:x} of {protect} is not protected in the journal");
                    if ((perm & 8) != 0)
                        Assert.Equal(perm, run.Perm);
                    gfn = run.End;
                }

                checkedRanges++;
            }
        }

        Assert.True(protects.Count(p => !p.TryGetProperty("event", out _) && !p.TryGetProperty("attack", out _)) >= KilledVms,
            "every VM's boot protection was acknowledged");
        Assert.True(checkedRanges > 100, $"{checkedRanges} ranges checked");
        var pins = recorded.Where(r => Op(r) == "lock_cr" && r.GetProperty("observed").GetInt64() == 0).ToList();
        Assert.Equal(2 * KilledVms, pins.Count);
        foreach (var pin in pins)
        {
            var pinned = U(vms[Vm(pin)], U(pin, "cr") == 0 ? "cr0_pins" : "cr4_pins");
            Assert.Equal(U(pin, "pin"), pinned & U(pin, "pin"));
        }

        // The text listing says the same for people: each VM with its pins and every range of the JSON.
        foreach (var (id, vm) in vms)
        {
            var at = text.IndexOf($"VM {id}: hardened, 1 vCPU x 16 MiB", StringComparison.Ordinal);
            Assert.True(at >= 0, $"VM {id} is not in the text listing");
            var section = text[at..];
            section = section[..(section.IndexOf("\nVM ", 1, StringComparison.Ordinal) is var next and > 0 ? next : section.Length)];
            Assert.Contains("pins: CR0 0x10000 (WP), CR4 0x300000 (SMEP SMAP)", section);
            foreach (var (start, end, _) in Ranges(vm))
                Assert.Contains($"    0x{start:x}-0x{end:x}  ", section);
        }

        Assert.Contains($"journal k.db: {KilledVms} VMs; ", text);
    }

    [Fact]
    public void After_SIGKILL_the_next_run_refuses_until_told_then_resumes_and_its_recording_replays_and_fresh_starts_over()
    {
        KilledRun();
        var killed = Journal();
        string[] run = ["simulate", "--vms", $"{KilledVms + 2}", "--vcpus", "1", "--memory-mb", "16", "--kernel", "synthetic", "--rounds", "3", "--accesses-per-vcpu", "300",
            "--sqlite-path", "k.db", "--no-progress"];

        // Told nothing: refused before anything runs or is written.
        var refused = HekiProcess.Run([.. run, "--record", "r.jsonl"], _folder.Path);
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.Equal($"heki simulate: journal k.db holds {KilledVms} VMs an earlier run left (sim-00000 ... sim-00019); nothing ran: " +
            "--resume continues with them (their protections and pins stay in force), --fresh destroys them first ('heki journal k.db' lists them)\n",
            refused.Error);
        Assert.Equal("", refused.Output);
        Assert.False(File.Exists(_folder.File("r.jsonl")));
        Assert.Equal(Listing(killed), Listing(Journal()));

        // --resume: the 20 VMs are taken over with what they hold, 2 boot; the recording replays.
        var resumed = HekiProcess.Run([.. run, "--resume", "--record", "r.jsonl"], _folder.Path, timeout: Deadline);
        Assert.True(resumed.ExitCode == ExitCodes.Ok, resumed.Error);
        Assert.StartsWith($"heki simulate: --resume: taking over {KilledVms} VMs from journal k.db (sim-00000 ... sim-00019); 2 VMs boot\n", resumed.Error);
        Assert.Matches($"VMs +{KilledVms + 2} \\({KilledVms} resumed from the journal\\)", resumed.Output);
        var recording = Recorded("r.jsonl");
        Assert.Equal(Enumerable.Range(0, KilledVms).Select(i => $"sim-{i:D5}"),
            recording.Where(r => r.TryGetProperty("resumed", out _)).Select(Vm).Distinct().Order(StringComparer.Ordinal));
        // A resumed kernel makes no boot hypercall: its protections and pins are in force (an immutable page is not asked again).
        Assert.DoesNotContain(recording, r => Op(r) is "protect" or "lock_cr" && !r.TryGetProperty("resumed", out _)
            && !r.TryGetProperty("event", out _) && !r.TryGetProperty("attack", out _) && string.CompareOrdinal(Vm(r), $"sim-{KilledVms:D5}") < 0);
        Assert.True(Replays("r.jsonl") > 100);
        var afterResume = Journal();
        foreach (var (id, vm) in killed)
        {
            var now = Ranges(afterResume[id]);
            foreach (var immutable in Ranges(vm).Where(r => (r.Perm & 8) != 0))
                Assert.Contains(immutable, now);
        }

        // --fresh: every VM of the journal destroyed first, said on stderr, not recorded; the run is as on a new journal.
        var fresh = HekiProcess.Run([.. run, "--fresh", "--record", "f.jsonl"], _folder.Path, timeout: Deadline);
        Assert.True(fresh.ExitCode == ExitCodes.Ok, fresh.Error);
        Assert.StartsWith($"heki simulate: --fresh: destroying the {KilledVms + 2} VMs an earlier run left in journal k.db (sim-00000 ... sim-00021) " +
            "before the run; this is not part of the run or its recording\n", fresh.Error);
        Assert.DoesNotContain("resumed from the journal", fresh.Output);
        Assert.DoesNotContain(Recorded("f.jsonl"), r => Op(r) == "destroy_vm" || r.TryGetProperty("resumed", out _));
        Assert.True(Replays("f.jsonl") > 100);
        var onNew = HekiProcess.Run([.. run.Select(a => a == "k.db" ? "n.db" : a)], _folder.Path, timeout: Deadline);
        Assert.True(onNew.ExitCode == ExitCodes.Ok, onNew.Error);
        Assert.Equal(Listing(Journal("n.db")), Listing(Journal()));
    }

    /// <summary>Each VM's protections and pins, as text to compare (not its event counts, which differ by history).</summary>
    private static List<string> Listing(Dictionary<string, JsonElement> vms) =>
        vms.OrderBy(vm => vm.Key, StringComparer.Ordinal)
            .Select(vm => $"{vm.Key} {U(vm.Value, "cr0_pins")} {U(vm.Value, "cr4_pins")} " + string.Join(' ', Ranges(vm.Value))).ToList();

    /// <summary>
    /// Replays a recording with <c>heki replay</c> and checks every line: each result equals the line's <c>observed</c>, the
    /// resumed lines rebuild their VMs without an error, nothing else errs. Returns how many results were compared.
    /// </summary>
    private int Replays(string name)
    {
        var replay = HekiProcess.Run(["replay", name], _folder.Path, timeout: Deadline);
        Assert.True(replay.ExitCode == ExitCodes.Ok, replay.Error[..Math.Min(replay.Error.Length, 2000)]);
        var replayed = replay.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)
            .ToDictionary(r => r.GetProperty("line").GetInt32());
        var lines = File.ReadAllLines(_folder.File(name));
        var compared = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith('{'))
                continue;
            var line = JsonDocument.Parse(lines[i]).RootElement;
            var result = replayed[i + 1];
            Assert.False(result.TryGetProperty("error", out _), $"line {i + 1}: {result}");
            var got = result.TryGetProperty("ret", out var ret) ? ret.ToString() : result.TryGetProperty("result", out var outcome) ? outcome.GetString() : null;
            if (line.TryGetProperty("resumed", out _))
                Assert.True(got is "0" or "ok" || result.TryGetProperty("ok", out _), $"line {i + 1}: {result}");
            if (line.TryGetProperty("observed", out var observed))
            {
                Assert.True(observed.ToString() == got, $"line {i + 1}: recorded {observed}, replayed {got}");
                compared++;
            }
        }

        return compared;
    }
}
