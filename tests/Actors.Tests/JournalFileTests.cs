using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.TestSupport;
using Microsoft.Data.Sqlite;

namespace HekiActors.Actors.Tests;

/// <summary>
/// The SQLite journal file: a path is always a path, and a file that cannot hold a journal is refused before any actor
/// system starts, in one line saying what is wrong (docs/reliability.md, "Journal files").
/// </summary>
public sealed class JournalFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("heki-journal-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A journal as Akka.Persistence.Sql creates it, with one event.</summary>
    private string RealJournal(string name = "real.db") => JournalFixtures.Database(PathOf(name), JournalFixtures.Schema +
        "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (1, 0, 'vm-a', 1, x'00');");

    [Fact]
    public void A_new_file_an_empty_file_and_a_real_journal_are_accepted()
    {
        Assert.Null(SqliteJournal.Check(PathOf("new.db")));
        File.WriteAllBytes(PathOf("empty.db"), []);
        Assert.Null(SqliteJournal.Check(PathOf("empty.db")));
        var real = RealJournal();
        var before = File.ReadAllBytes(real);
        Assert.Null(SqliteJournal.Check(real));
        Assert.Equal(before, File.ReadAllBytes(real)); // the write probe was rolled back
        Assert.False(File.Exists(PathOf("new.db")), "checking a new journal must not create it");
    }

    [Fact]
    public void The_ids_a_journal_holds_at_its_start_are_read_without_creating_or_changing_the_file()
    {
        var journal = new[] { "journal", "journal_metadata" };
        Assert.Empty(SqliteJournal.PersistenceIds(SqliteJournal.ConnectionString(PathOf("new.db")), journal)!);
        Assert.False(File.Exists(PathOf("new.db")));
        File.WriteAllBytes(PathOf("empty.db"), []);
        Assert.Empty(SqliteJournal.PersistenceIds(SqliteJournal.ConnectionString(PathOf("empty.db")), journal)!);

        var real = JournalFixtures.Database(PathOf("ids.db"), JournalFixtures.Schema + """
            CREATE TABLE journal_metadata (persistence_id NVarChar(255) NOT NULL, sequence_number INTEGER NOT NULL,
              CONSTRAINT PK_journal_metadata PRIMARY KEY (persistence_id, sequence_number));
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (1, 0, 'vm-a', 1, x'00'), (2, 0, 'vm-a', 2, x'00');
            INSERT INTO journal_metadata VALUES ('vm-deleted', 4);
            INSERT INTO snapshot (persistence_id, sequence_number, created) VALUES ('vm-s', 5, 1);
            """);
        var length = new FileInfo(real).Length;
        Assert.Equal(["vm-a", "vm-deleted"], SqliteJournal.PersistenceIds(SqliteJournal.ConnectionString(real), journal)!.Order(StringComparer.Ordinal));
        Assert.Equal(["vm-s"], SqliteJournal.PersistenceIds(SqliteJournal.ConnectionString(real), "snapshot")!);
        Assert.Equal(length, new FileInfo(real).Length);

        // Unreadable: unknown, so every recovery asks the file (which then says what is wrong).
        File.WriteAllText(PathOf("text.db"), new string('x', 4096));
        Assert.Null(SqliteJournal.PersistenceIds(SqliteJournal.ConnectionString(PathOf("text.db")), journal));
    }

    [Fact]
    public async Task The_journal_warm_up_writes_a_scratch_database_and_leaves_the_file_and_the_system_as_they_were()
    {
        var path = PathOf("warm.db");
        var config = HekiConfig.Build(JournalKind.Sqlite, path, "OFF");
        using var system = Akka.Actor.ActorSystem.Create("warm-up", config);
        await SqliteWriteWarmUp.RunAsync(system, config.GetConfig("akka.persistence.journal.sql"), system.Log);
        Assert.False(File.Exists(path));
        // The system's shared stream materializer still runs streams (the warm-up used and stopped one of its own).
        Assert.Equal(6, await Akka.Streams.Dsl.Source.From([1, 2, 3]).RunAggregate(0, (a, b) => a + b, Akka.Streams.ActorMaterializer.Create(system)));
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused()
    {
        File.WriteAllText(PathOf("bad.db"), "not a db\n");
        Assert.Equal("not a SQLite database (it does not start with the SQLite header)", SqliteJournal.Check(PathOf("bad.db")));
    }

    [Fact]
    public void A_truncated_journal_is_refused_as_truncated()
    {
        var real = RealJournal();
        var bytes = File.ReadAllBytes(real);
        File.WriteAllBytes(PathOf("cut.db"), bytes[..(bytes.Length - 1000)]);
        Assert.StartsWith("truncated:", SqliteJournal.Check(PathOf("cut.db")));
        // Cut at a page boundary: the header's page count still gives it away.
        File.WriteAllBytes(PathOf("pages.db"), bytes[..4096]);
        Assert.StartsWith("truncated: its header says", SqliteJournal.Check(PathOf("pages.db")));
        File.WriteAllBytes(PathOf("short.db"), bytes[..50]);
        Assert.StartsWith("truncated:", SqliteJournal.Check(PathOf("short.db")));
    }

    [Fact]
    public void A_damaged_journal_is_refused()
    {
        var real = RealJournal();
        var bytes = File.ReadAllBytes(real);
        // Page 2 onwards overwritten: the header is sound, the b-trees are not.
        Array.Fill(bytes, (byte)0xA5, 4096, bytes.Length - 4096);
        File.WriteAllBytes(PathOf("damaged.db"), bytes);
        var problem = SqliteJournal.Check(PathOf("damaged.db"));
        Assert.NotNull(problem);
        Assert.Contains("damaged", problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void Paths_that_cannot_be_a_file_are_refused_by_name()
    {
        Assert.Equal("directory /nonexistent-heki does not exist", SqliteJournal.Check("/nonexistent-heki/x.db"));
        Assert.Equal("is a directory, not a file", SqliteJournal.Check(_dir));
        Assert.Equal("is a directory, not a file", SqliteJournal.Check(PathOf("sub") + "/"));
        File.WriteAllText(PathOf("plain"), "x");
        Assert.Equal($"{PathOf("plain")} is a file, not a directory", SqliteJournal.Check(PathOf("plain/x.db")));
        Assert.Equal("the path is empty", SqliteJournal.Check(""));
        if (OperatingSystem.IsLinux())
            Assert.StartsWith("is not a regular file", SqliteJournal.Check("/dev/null"));
    }

    [Fact]
    public void Another_programs_database_is_not_taken_for_a_journal()
    {
        var path = JournalFixtures.Database(PathOf("places.sqlite"), "CREATE TABLE bookmarks (url TEXT)");

        Assert.Equal("a SQLite database but not a heki journal (it has other tables: bookmarks)", SqliteJournal.Check(path));
    }

    [Fact]
    public void A_journal_table_without_its_columns_is_refused()
    {
        var path = JournalFixtures.Database(PathOf("odd.db"), "CREATE TABLE journal (persistence_id TEXT)");

        Assert.StartsWith("its 'journal' table is not a journal's (no column ordering,", SqliteJournal.Check(path));
    }

    [Fact]
    public void A_database_another_program_holds_a_write_lock_on_is_refused_as_in_use()
    {
        var real = RealJournal();
        using var other = new SqliteConnection($"Data Source={real};Pooling=False");
        other.Open();
        using var begin = other.CreateCommand();
        begin.CommandText = "BEGIN EXCLUSIVE";
        begin.ExecuteNonQuery();
        var problem = SqliteJournal.Check(real);
        Assert.NotNull(problem);
        Assert.StartsWith("in use by another program", problem);
    }

    [Fact]
    public async Task A_node_writes_its_journal_in_WAL_mode_syncs_every_commit_and_leaves_one_file_when_it_stops()
    {
        var path = PathOf("wal.db");
        await using (var host = await HekiHost.StartAsync(new HekiHostOptions(JournalKind.Sqlite, path, AkkaLogLevel: "OFF")))
        {
            Assert.IsType<VmCreated>(await host.Ask(new CreateVm("a", Guid.NewGuid(), VmConfig.FromMegabytes(16, 1))));
            Assert.Equal("wal", JournalMode(path));
        }

        Assert.Equal("delete", JournalMode(path));
        Assert.All(new[] { "-wal", "-shm", "-journal" }, suffix => Assert.False(File.Exists(path + suffix), suffix));
        using var db = new SqliteConnection($"Data Source={path};Pooling=False");
        db.Open();
        // Every connection of the plugins is tuned so: acknowledged means fsynced (docs/benchmarks.md, "SQLite journal"),
        // so a power loss keeps it too.
        HekiConfig.TuneConnection(db);
        using var synchronous = db.CreateCommand();
        synchronous.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, synchronous.ExecuteScalar()); // FULL
    }

    private static string? JournalMode(string path)
    {
        using var db = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var mode = db.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        return mode.ExecuteScalar() as string;
    }

    [Theory]
    [InlineData("a.db;Mode=ReadOnly")]
    [InlineData("q\"uote'\\back.db")]
    [InlineData("${HOME}{x}.db")]
    [InlineData("file:x.db?mode=ro")]
    [InlineData(":memory:")]
    [InlineData("new\nline.db")]
    public void A_path_is_always_a_path_in_the_journal_configuration(string name)
    {
        var path = PathOf(name);
        var config = HekiConfig.Build(JournalKind.Sqlite, path);
        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql", "akka.persistence.query.journal.sql" })
        {
            var connection = new SqliteConnectionStringBuilder(config.GetString(plugin + ".connection-string"));
            Assert.Equal(Path.GetFullPath(path), connection.DataSource);
            Assert.Equal(SqliteOpenMode.ReadWriteCreate, connection.Mode);
        }
    }

    [Fact]
    public void A_second_lock_on_a_journal_is_refused_and_names_the_owner()
    {
        var journal = PathOf("same.db");
        using var first = JournalLock.TryAcquire(journal, "heki simulate", out var refusal, out var inUse);
        Assert.NotNull(first);
        Assert.Null(refusal);
        Assert.False(inUse);

        // Through a symbolic link too: the lock belongs to the file, not to the name.
        File.CreateSymbolicLink(PathOf("link.db"), journal);
        var second = JournalLock.TryAcquire(PathOf("link.db"), "heki simulate", out refusal, out inUse);
        Assert.Null(second);
        Assert.True(inUse);
        Assert.StartsWith($"is in use by process {Environment.ProcessId} (heki simulate, started ", refusal);
        Assert.EndsWith($"which holds {journal}.lock", refusal);

        first.Dispose();
        using var third = JournalLock.TryAcquire(journal, "heki simulate", out refusal, out _);
        Assert.NotNull(third);
    }

    [Fact]
    public void A_lock_file_that_is_a_link_or_a_directory_is_refused_and_what_it_points_at_is_left_alone()
    {
        var victim = PathOf("victim.txt");
        File.WriteAllText(victim, "secret");
        var journal = PathOf("j.db");

        File.CreateSymbolicLink(journal + ".lock", victim);
        Assert.Null(JournalLock.TryAcquire(journal, "heki simulate", out var refusal, out var inUse));
        Assert.Equal($"its lock file {journal}.lock is a symbolic link; remove it", refusal);
        Assert.False(inUse);

        File.Delete(journal + ".lock");
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(0, Link(victim, journal + ".lock"));
            Assert.Null(JournalLock.TryAcquire(journal, "heki simulate", out refusal, out _));
            Assert.StartsWith($"its lock file {journal}.lock is not a plain file of its own", refusal);
            File.Delete(journal + ".lock");
        }

        Directory.CreateDirectory(journal + ".lock");
        Assert.Null(JournalLock.TryAcquire(journal, "heki simulate", out refusal, out _));
        Assert.Equal($"its lock file {journal}.lock is a directory; remove it", refusal);
        Assert.Equal("secret", File.ReadAllText(victim));
    }

    [Fact]
    public void A_lock_file_left_by_a_dead_owner_does_not_lock()
    {
        var journal = PathOf("crashed.db");
        File.WriteAllText(journal + ".lock", "999999\nheki simulate, started 2020-01-01 00:00:00Z\n");
        using var held = JournalLock.TryAcquire(journal, "heki simulate", out var refusal, out _);
        Assert.NotNull(held);
        Assert.StartsWith($"{Environment.ProcessId}\n", File.ReadAllText(journal + ".lock"));
    }

    [Fact]
    public void The_lock_file_names_its_owner_and_the_start_time_of_the_injected_clock()
    {
        var journal = PathOf("owned.db");
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.Zero));
        using var held = JournalLock.TryAcquire(journal, "heki simulate", out _, out _, clock);
        Assert.NotNull(held);
        Assert.Equal($"{Environment.ProcessId}\nheki simulate, started 2031-02-03 04:05:06Z\n", File.ReadAllText(journal + ".lock"));
    }

    [Fact]
    public void Names_of_one_file_are_recognised_through_links_and_dot_dots()
    {
        var target = PathOf("k.db");
        File.WriteAllText(target, "x");
        Directory.CreateDirectory(PathOf("sub"));
        Directory.CreateDirectory(PathOf("deep/inner"));
        File.CreateSymbolicLink(PathOf("soft.db"), "k.db");
        Directory.CreateSymbolicLink(PathOf("dirlink"), PathOf("deep/inner"));
        var k = FileIdentity.Of(target);

        Assert.True(k.SameFileAs(FileIdentity.Of(PathOf("soft.db"))));
        Assert.True(k.SameFileAs(FileIdentity.Of(PathOf("sub/../k.db"))));
        // dirlink/.. is the parent of the link's target (where the system goes), not the folder the link is in.
        Assert.Equal(FileIdentity.Resolve(PathOf("deep/k.db")), FileIdentity.Of(PathOf("dirlink/../k.db")).ResolvedPath);
        Assert.False(k.SameFileAs(FileIdentity.Of(PathOf("dirlink/../k.db"))));
        Assert.False(k.SameFileAs(FileIdentity.Of(PathOf("other.db"))));
        Assert.True(FileIdentity.Of(PathOf("new.db")).SameFileAs(FileIdentity.Of(PathOf("sub/../new.db"))));
        if (OperatingSystem.IsLinux())
        {
            // A hard link is the same file under another name: only the inode tells.
            Assert.Equal(0, Link(target, PathOf("hard.db")));
            Assert.True(k.SameFileAs(FileIdentity.Of(PathOf("hard.db"))));
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link")]
    private static extern int Link(string existing, string created);
}
