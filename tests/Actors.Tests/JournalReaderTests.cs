using HekiActors.Actors.Hosting;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Memory.Vm;
using HekiActors.Protocol;
using HekiActors.TestSupport;
using Microsoft.Data.Sqlite;

namespace HekiActors.Actors.Tests;

/// <summary>
/// Issue 8 item 4: reading a SQLite journal (<c>heki journal</c>) rebuilds every VM exactly as its actor recovers it,
/// never changes the file, is refused while a simulation holds the journal, and reads a journal a dead process left in the
/// middle of a write as it was at its last commit.
/// </summary>
public sealed class JournalReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("heki-journal-reader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>
    /// Runs <paramref name="commands"/> one at a time on VM actors journaling to <paramref name="path"/> (snapshots every few
    /// events), and returns each VM's state as the pure core builds it from the same commands.
    /// </summary>
    private static async Task<Dictionary<string, VmState>> Journal(string path, IEnumerable<VmCommand> commands, int snapshotEvery = 4)
    {
        var expected = new Dictionary<string, VmState>(StringComparer.Ordinal);
        await using var host = HekiHost.Start(new HekiHostOptions(JournalKind.Sqlite, path, AkkaLogLevel: "OFF", VmSettings: new VmActorSettings(snapshotEvery)));
        foreach (var command in commands)
        {
            await host.Ask(Message(command));
            var state = expected.GetValueOrDefault(command.VmId);
            foreach (var ev in VmCore.Decide(state, command).Events)
                state = VmCore.Evolve(state, ev);
            if (state is not null)
                expected[command.VmId] = state;
        }

        return expected;
    }

    private static object Message(VmCommand command) => command switch
    {
        VmCommand.Create c => new CreateVm(c.VmId, c.RequestId, c.Config),
        VmCommand.Destroy d => new DestroyVm(d.VmId, d.RequestId),
        VmCommand.Protect p => new GuestProtectMemory(p.VmId, 0, p.RequestId, p.ListPages, 0),
        VmCommand.LockCr l => new GuestLockCr(l.VmId, 0, l.RequestId, l.Cr, l.Pin, l.Flags, 0),
        VmCommand.WriteCr w => new GuestWriteCr(w.VmId, w.Vcpu, w.RequestId, w.Cr, w.Value),
        VmCommand.SetPermissions s => new SetPermissions(s.VmId, s.RequestId, s.Start, s.End, s.Attr),
        _ => throw new ArgumentOutOfRangeException(nameof(command)),
    };

    /// <summary>A seeded mix of every change a VM journals, over three VMs of both profiles, destroys and re-creates included.</summary>
    private static List<VmCommand> RandomCommands(int seed, int count)
    {
        var random = new Random(seed);
        var configs = new Dictionary<string, VmConfig>
        {
            ["a"] = VmConfig.FromMegabytes(16, 2, mbec: true, profile: HekiProfile.Hardened),
            ["b"] = VmConfig.FromMegabytes(16, 3, mbec: false, profile: HekiProfile.HekiV2),
            ["c"] = VmConfig.FromMegabytes(16, 1, mbec: true, profile: HekiProfile.Hardened),
        };
        var commands = configs.Select(c => (VmCommand)new VmCommand.Create(c.Key, Guid.NewGuid(), c.Value)).ToList();
        for (var i = 0; i < count; i++)
        {
            var vm = configs.Keys.ElementAt(random.Next(configs.Count));
            var id = Guid.NewGuid();
            var start = (ulong)random.Next(0, 64);
            var end = start + (ulong)random.Next(1, 16);
            commands.Add(random.Next(40) switch
            {
                < 18 => new VmCommand.Protect(vm, id, [[new MemoryRange(start << 12, end << 12, (ulong)random.Next(1, 16))]]),
                < 24 => new VmCommand.SetPermissions(vm, id, start, end, (ulong)random.Next(0, 16)),
                < 28 => new VmCommand.LockCr(vm, id, random.Next(2) == 0 ? 0UL : 4UL, random.Next(2) == 0 ? CrPinning.Cr0Wp : CrPinning.Cr4Smep, 0),
                < 37 => new VmCommand.WriteCr(vm, id, random.Next(configs[vm].VcpuCount), random.Next(2) * 4, (ulong)random.NextInt64()),
                37 => new VmCommand.Destroy(vm, id),
                _ => new VmCommand.Create(vm, id, configs[vm]),
            });
        }

        return commands;
    }

    private static async Task<List<JournaledVm>> ReadAll(string path)
    {
        await using var reader = JournalReader.Open(path);
        var vms = new List<JournaledVm>();
        foreach (var id in await reader.VmIdsAsync())
            vms.Add(await reader.ReadAsync(id));
        return vms;
    }

    private static void AssertSame(VmState expected, JournaledVm read)
    {
        var want = expected.ToSnapshot();
        var got = read.State;
        Assert.Equal(want.Config, got.Config);
        Assert.Equal(want.Runs, got.Runs);
        Assert.Equal((want.Cr0Pins, want.Cr4Pins), (got.Cr0Pins, got.Cr4Pins));
        Assert.Equal(want.ControlRegisters.Length, got.ControlRegisters.Length);
        for (var v = 0; v < want.ControlRegisters.Length; v++)
            Assert.Equal(want.ControlRegisters[v], got.ControlRegisters[v]);
        Assert.Equal(want.RecentDestroys, got.RecentDestroys);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Every_VM_is_rebuilt_as_the_live_decisions_built_it(int seed)
    {
        var path = PathOf("run.db");
        var expected = await Journal(path, RandomCommands(seed, 120));

        var read = await ReadAll(path);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), read.Select(vm => vm.VmId));
        foreach (var vm in read)
        {
            AssertSame(expected[vm.VmId], vm);
            Assert.Equal(expected[vm.VmId].IsAlive, vm.Exists);
            Assert.True(vm.Events >= 1);
        }

        // Snapshots were taken (every 4 events after a create) and recovery starts from the newest, as the actor's does.
        Assert.Contains(read, vm => vm.Snapshots.Count > 0);
        Assert.All(read.Where(vm => vm.Exists && vm.Events >= 6), vm => Assert.NotEmpty(vm.Snapshots));
        Assert.All(read, vm => Assert.True(vm.Snapshots.SequenceEqual(vm.Snapshots.OrderDescending())));
    }

    [Fact]
    public async Task A_VM_s_ranges_pins_registers_and_counts_are_what_its_actor_recovers()
    {
        var path = PathOf("one.db");
        var config = VmConfig.FromMegabytes(16, 2, profile: HekiProfile.Hardened);
        await Journal(path,
        [
            new VmCommand.Create("vm", Guid.NewGuid(), config),
            new VmCommand.Protect("vm", Guid.NewGuid(), [[new MemoryRange(0x1000, 0x3000, 13), new MemoryRange(0x3000, 0x5000, 3)]]),
            new VmCommand.LockCr("vm", Guid.NewGuid(), 0, CrPinning.Cr0Wp, 0),
            new VmCommand.WriteCr("vm", Guid.NewGuid(), 1, 0, 0x80050033),
            new VmCommand.Create("gone", Guid.NewGuid(), config),
            new VmCommand.Destroy("gone", Guid.NewGuid()),
        ], snapshotEvery: 100);

        var read = await ReadAll(path);

        Assert.Equal(["gone", "vm"], read.Select(vm => vm.VmId));
        var gone = read[0];
        Assert.False(gone.Exists);
        Assert.Equal(1, gone.Events); // a destroy deletes the events before it
        var vm = read[1];
        Assert.True(vm.Exists);
        Assert.Equal(config, vm.State.Config);
        Assert.Equal([new AttributeRun(1, 3, 0xD0), new AttributeRun(3, 5, 0x30)], vm.State.Runs);
        Assert.Equal(CrPinning.Cr0Wp, vm.State.Cr0Pins);
        Assert.Equal(0x80050033UL, vm.State.ControlRegisters[1][0]);
        Assert.Equal(4, vm.Events);
        Assert.Equal(4, vm.HighestSequenceNr);
        Assert.Empty(vm.Snapshots);

        // A host started on the same journal recovers the same VM.
        await using var host = HekiHost.Start(new HekiHostOptions(JournalKind.Sqlite, path, AkkaLogLevel: "OFF"));
        Assert.Equal(13UL, ((PermissionsValue)await host.Ask(new GetPermissions("vm", 2))).Attr);
    }

    [Fact]
    public async Task Reading_never_changes_the_file_nor_leaves_anything_beside_it()
    {
        var path = PathOf("run.db");
        await Journal(path, RandomCommands(7, 40));
        File.Delete(path + ".lock");
        var before = File.ReadAllBytes(path);
        var written = File.GetLastWriteTimeUtc(path);
        var files = Directory.GetFiles(_dir).Order().ToArray();

        using (var journal = JournalForReading.TryOpen(path, "heki journal", out var problem, out _))
        {
            Assert.True(journal is not null, problem);
            Assert.False(journal.ReadsCopy);
            await ReadAll(journal.ReadPath);
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        Assert.Equal(files, Directory.GetFiles(_dir).Order().ToArray());
    }

    [Fact]
    public async Task A_journal_a_simulation_holds_is_refused_naming_it()
    {
        var path = PathOf("busy.db");
        await Journal(path, RandomCommands(3, 5));
        using var simulation = JournalLock.TryAcquire(path, "heki simulate", out _, out _);
        Assert.NotNull(simulation);

        var journal = JournalForReading.TryOpen(path, "heki journal", out var problem, out var inUse);

        Assert.Null(journal);
        Assert.True(inUse);
        Assert.Contains($"is in use by process {Environment.ProcessId} (heki simulate, started ", problem);
    }

    [Fact]
    public async Task A_journal_left_in_the_middle_of_a_write_is_read_at_its_last_commit_from_a_copy()
    {
        var path = PathOf("live.db");
        var expected = await Journal(path, RandomCommands(5, 30));
        // A write transaction big enough to spill into the file: what a process killed mid-write leaves is the file with
        // uncommitted pages in it and SQLite's rollback journal beside it. Copy both while the transaction is open. (Our
        // journals are in WAL mode, which a writer never spills into the file; a journal may still be in rollback mode,
        // written by an earlier version or another tool, so this one is turned back to it.)
        var crashed = Directory.CreateDirectory(PathOf("crashed")).FullName;
        var copy = Path.Combine(crashed, "live.db");
        using (var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            db.Open();
            using var write = db.CreateCommand();
            write.CommandText = "PRAGMA journal_mode = DELETE; PRAGMA cache_size = 2; BEGIN IMMEDIATE; " + string.Concat(Enumerable.Range(0, 200).Select(i =>
                $"INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (1, 0, 'vm-ghost', {i + 1}, randomblob(2000));"));
            write.ExecuteNonQuery();
            File.Copy(path, copy);
            File.Copy(path + "-journal", copy + "-journal");
            using var rollback = db.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        Assert.True(new FileInfo(copy + "-journal").Length > 0);
        var before = (File.ReadAllBytes(copy), File.ReadAllBytes(copy + "-journal"));

        using (var journal = JournalForReading.TryOpen(copy, "heki journal", out var problem, out _))
        {
            Assert.True(journal is not null, problem);
            Assert.True(journal.ReadsCopy);
            var read = await ReadAll(journal.ReadPath);
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), read.Select(vm => vm.VmId));
            foreach (var vm in read)
                AssertSame(expected[vm.VmId], vm);
        }

        Assert.Equal(before.Item1, File.ReadAllBytes(copy));
        Assert.Equal(before.Item2, File.ReadAllBytes(copy + "-journal"));
    }

    [Fact]
    public async Task An_empty_database_holds_no_VMs()
    {
        File.WriteAllBytes(PathOf("empty.db"), []);
        Assert.Empty(await ReadAll(PathOf("empty.db")));
    }

    [Fact]
    public async Task An_event_that_cannot_be_read_is_a_content_error_naming_the_VM()
    {
        var path = JournalFixtures.Database(PathOf("junk.db"), JournalFixtures.Schema + """
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
              VALUES (1, 0, 'vm-x', 1, x'deadbeef', 'heki.VmConfiguredEvent.v1', 1710, 'w');
            """);
        await using var reader = JournalReader.Open(path);

        Assert.Equal(["x"], await reader.VmIdsAsync());
        var error = await Assert.ThrowsAsync<JournalContentException>(() => reader.ReadAsync("x"));
        Assert.StartsWith("VM x: event 1 (heki.VmConfiguredEvent.v1) cannot be read: ", error.Message);
    }

    [Fact]
    public void Files_that_are_not_readable_journals_get_the_simulation_checks_messages()
    {
        File.WriteAllText(PathOf("bad.db"), "not a db\n");
        Assert.Null(JournalForReading.TryOpen(PathOf("bad.db"), "heki journal", out var problem, out var inUse));
        Assert.Equal("not a SQLite database (it does not start with the SQLite header)", problem);
        Assert.False(inUse);
        Assert.False(File.Exists(PathOf("bad.db.lock")), "a refused journal leaves no lock file behind");
        Assert.Null(JournalForReading.TryOpen(PathOf("none.db"), "heki journal", out problem, out _));
        Assert.Equal("does not exist", problem);
        Assert.Null(JournalForReading.TryOpen(_dir, "heki journal", out problem, out _));
        Assert.Equal("is a directory, not a file", problem);
    }
}
