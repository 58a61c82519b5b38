using System.Text.Json;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Journal;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.TestSupport;

namespace HekiActors.Cli.Tests;

/// <summary>
/// <c>heki journal FILE</c> (issue 8 item 4): every VM of a journal with its protected ranges, pins, events and snapshots,
/// as text and as JSON; the files <c>heki simulate</c> refuses are refused in the same words; a journal a simulation holds
/// is refused (75).
/// </summary>
public sealed class JournalCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>VM "a" (hardened, 2 vCPUs, 16 MiB): text R-X immutable at gfns 1-3, data RW at 3-5, CR0.WP pinned, CR0 set on vCPU 1; VM "b" destroyed.</summary>
    private async Task<string> TwoVmJournal()
    {
        var path = _folder.File("run.db");
        await using var host = HekiHost.Start(new HekiHostOptions(JournalKind.Sqlite, path, AkkaLogLevel: "OFF"));
        await host.Ask(new CreateVm("a", Guid.NewGuid(), VmConfig.FromMegabytes(16, 2)));
        Assert.Equal(0, ((HypercallDone)await host.Ask(new GuestProtectMemory("a", 0, Guid.NewGuid(),
            [[new MemoryRange(0x1000, 0x3000, 13), new MemoryRange(0x3000, 0x5000, 3)]], 0))).Ret);
        Assert.Equal(0, ((HypercallDone)await host.Ask(new GuestLockCr("a", 0, Guid.NewGuid(), 0, CrPinning.Cr0Wp, 0, 0))).Ret);
        await host.Ask(new GuestWriteCr("a", 1, Guid.NewGuid(), 0, 0x80050033));
        await host.Ask(new CreateVm("b", Guid.NewGuid(), VmConfig.FromMegabytes(32, 1, mbec: false, profile: HekiProfile.HekiV2)));
        await host.Ask(new DestroyVm("b", Guid.NewGuid()));
        return path;
    }

    private static async Task<(int Status, string Output, string Error)> List(string path, bool json = false, string? vm = null)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var status = await JournalCommand.RunAsync(path, json, vm, output, error, CancellationToken.None);
        return (status, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Lists_each_VM_with_its_ranges_pins_registers_events_and_snapshots()
    {
        var path = await TwoVmJournal();

        var (status, output, error) = await List(path);

        Assert.Equal(ExitCodes.Ok, status);
        Assert.Equal("", error);
        Assert.Equal($"""
            VM a: hardened, 2 vCPUs x 16 MiB, MBEC on; 4 events (up to sequence number 4), 0 snapshots
              pins: CR0 0x10000 (WP), CR4 none
              vCPU 0: every control register 0
              vCPU 1: CR0 0x80050033
              2 protected ranges, 4 pages (gfns, end exclusive):
                0x1-0x3  r_x immutable  2 pages
                0x3-0x5  rw_            2 pages
            VM b: destroyed; the journal keeps 1 event (up to sequence number 2), 0 snapshots
            journal {path}: 1 VM and 1 destroyed; 5 events, 0 snapshots

            """, output);
    }

    [Fact]
    public async Task The_JSON_listing_carries_every_field_for_machines()
    {
        var path = await TwoVmJournal();

        var (status, output, _) = await List(path, json: true);

        Assert.Equal(ExitCodes.Ok, status);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(path, root.GetProperty("journal").GetString());
        var a = root.GetProperty("vms")[0];
        Assert.Equal("a", a.GetProperty("vm").GetString());
        Assert.True(a.GetProperty("exists").GetBoolean());
        Assert.Equal("hardened", a.GetProperty("profile").GetString());
        Assert.Equal(16, a.GetProperty("memory_mb").GetInt32());
        Assert.Equal(2, a.GetProperty("vcpus").GetInt32());
        Assert.True(a.GetProperty("mbec").GetBoolean());
        Assert.Equal(4, a.GetProperty("events").GetInt64());
        Assert.Equal(65536UL, a.GetProperty("cr0_pins").GetUInt64());
        Assert.Equal(0x80050033UL, a.GetProperty("control_registers")[1][0].GetUInt64());
        var ranges = a.GetProperty("ranges").EnumerateArray()
            .Select(r => (r.GetProperty("start_gfn").GetUInt64(), r.GetProperty("end_gfn").GetUInt64(), r.GetProperty("perm").GetUInt64(),
                r.GetProperty("immutable").GetBoolean(), r.GetProperty("attributes").GetUInt64())).ToArray();
        Assert.Equal([(1UL, 3UL, 13UL, true, 0xD0UL), (3UL, 5UL, 3UL, false, 0x30UL)], ranges);
        var b = root.GetProperty("vms")[1];
        Assert.False(b.GetProperty("exists").GetBoolean());
        Assert.False(b.TryGetProperty("ranges", out _));
        var totals = root.GetProperty("totals");
        Assert.Equal((1, 1, 5, 0), (totals.GetProperty("vms").GetInt32(), totals.GetProperty("destroyed").GetInt32(),
            totals.GetProperty("events").GetInt32(), totals.GetProperty("snapshots").GetInt32()));
    }

    [Fact]
    public async Task Vm_lists_one_VM_and_refuses_one_the_journal_does_not_hold()
    {
        var path = await TwoVmJournal();

        var (status, output, _) = await List(path, vm: "a");
        Assert.Equal(ExitCodes.Ok, status);
        Assert.StartsWith("VM a: ", output);
        Assert.DoesNotContain("VM b", output);

        (status, output, var error) = await List(path, vm: "A");
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal($"heki journal: journal {path} has no VM 'A'\n", error);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task A_journal_without_VMs_says_so()
    {
        var path = _folder.File("empty.db", "");
        var (status, output, _) = await List(path);
        Assert.Equal(ExitCodes.Ok, status);
        Assert.Equal($"journal {path}: no VMs\n", output);
        Assert.Equal("{\"journal\":" + JsonSerializer.Serialize(path) + ""","vms":[],"totals":{"vms":0,"destroyed":0,"events":0,"snapshots":0}}""" + "\n",
            (await List(path, json: true)).Output);
    }

    [Fact]
    public async Task Bad_files_get_the_same_one_line_messages_as_simulate()
    {
        var bad = _folder.File("bad.db", "not a db\n");
        Assert.Equal((ExitCodes.Usage, "", $"heki journal: journal {bad}: not a SQLite database (it does not start with the SQLite header)\n"),
            await List(bad));
        var missing = _folder.File("missing.db");
        Assert.Equal((ExitCodes.Usage, "", $"heki journal: journal {missing}: does not exist\n"), await List(missing));
        Assert.Equal((ExitCodes.Usage, "", $"heki journal: journal {_folder.Path}: is a directory, not a file\n"), await List(_folder.Path));
    }

    [Fact]
    public async Task A_journal_a_simulation_holds_is_refused_with_75()
    {
        var path = await TwoVmJournal();
        using var held = JournalLock.TryAcquire(path, "heki simulate", out _, out _);

        var (status, output, error) = await List(path);

        Assert.Equal(ExitCodes.JournalInUse, status);
        Assert.Equal("", output);
        Assert.StartsWith($"heki journal: journal {path} is in use by process {Environment.ProcessId} (heki simulate, started ", error);
        Assert.EndsWith("; list it once that run has ended\n", error);
    }

    [Fact]
    public async Task A_journal_whose_events_cannot_be_read_is_status_1_with_the_VM_named()
    {
        var path = JournalFixtures.Database(_folder.File("junk.db"), JournalFixtures.Schema + """
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
              VALUES (1, 0, 'vm-x', 1, x'deadbeef', 'heki.VmConfiguredEvent.v1', 1710, 'w');
            """);

        var (status, _, error) = await List(path);

        Assert.Equal(ExitCodes.Failed, status);
        Assert.StartsWith($"heki journal: journal {path}: VM x: event 1 (heki.VmConfiguredEvent.v1) cannot be read: ", error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }
}
