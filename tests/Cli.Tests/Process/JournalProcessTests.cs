using HekiActors.TestSupport;
using Microsoft.Data.Sqlite;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 8, items 1 and 2, on the real command: a journal file that cannot hold a journal stops <c>heki simulate</c>
/// before anything runs, with one line naming it (exit 2); one that fails during the run ends it with a report (exit 1);
/// a journal in use by another heki is refused at once, naming that process (exit 75).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class JournalProcessTests : IDisposable
{
    private static readonly string[] Small = ["--vms", "2", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic", "--duration", "1s", "--no-progress"];

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string, string, string> BadJournals => new()
    {
        // kind, file to make (name), what the one line must say
        { "not-a-db", "bad.db", "journal bad.db: not a SQLite database" },
        { "truncated", "cut.db", "journal cut.db: truncated:" },
        { "missing-directory", "/nonexistent-heki/x.db", "journal /nonexistent-heki/x.db: directory /nonexistent-heki does not exist" },
        { "directory", "adir", "journal adir: is a directory, not a file" },
        { "device", "/dev/null", "journal /dev/null: is not a regular file" },
        { "semicolon-not-a-db", "a.db;Mode=ReadOnly", "journal a.db;Mode=ReadOnly: not a SQLite database" },
        { "other-programs-database", "places.sqlite", "journal places.sqlite: a SQLite database but not a heki journal" },
    };

    [Theory]
    [MemberData(nameof(BadJournals))]
    public void A_bad_journal_file_stops_simulate_before_anything_runs_with_one_line_naming_it(string kind, string name, string says)
    {
        Make(kind, name);
        var before = File.Exists(_folder.File(name)) ? File.ReadAllBytes(_folder.File(name)) : null;

        var (status, stdout, stderr) = HekiProcess.Run(["simulate", "--sqlite-path", name, .. Small], _folder.Path);

        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal($"heki simulate: {says}", stderr.Split('\n')[0][..$"heki simulate: {says}".Length]);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", stdout);
        if (before is not null)
            Assert.Equal(before, File.ReadAllBytes(_folder.File(name)));
        Assert.False(File.Exists(_folder.File(name) + ".lock"), "a refused journal leaves no lock file behind");
    }

    [Fact]
    public void A_journal_not_yet_written_by_the_run_that_holds_it_is_in_use_not_missing()
    {
        // As a chaos run's child holds it while its actor system starts, before the journal's first write.
        var path = _folder.File("k.db");
        using (var held = HekiActors.Actors.Hosting.JournalLock.TryAcquire(path, "heki chaos, a --kill-process child of process 1", out var refusal, out _))
        {
            Assert.True(held is not null, refusal);
            Assert.False(File.Exists(path));

            var (status, output, error) = HekiProcess.Run(["journal", "k.db"], _folder.Path);

            Assert.Equal(ExitCodes.JournalInUse, status);
            Assert.Equal("", output);
            Assert.StartsWith($"heki journal: journal k.db is in use by process {Environment.ProcessId} (heki chaos, a --kill-process child of process 1, started ", error);
            Assert.EndsWith("; list it once that run has ended\n", error);
        }

        // Once nobody holds it, a journal that is not there does not exist (and listing it made no file).
        var (freeStatus, _, freeError) = HekiProcess.Run(["journal", "k.db"], _folder.Path);
        Assert.Equal(ExitCodes.Usage, freeStatus);
        Assert.Equal("heki journal: journal k.db: does not exist\n", freeError);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_path_with_a_semicolon_is_a_file_name_not_connection_string_syntax()
    {
        const string name = "a.db;Mode=ReadOnly";
        var (status, _, stderr) = HekiProcess.Run(["simulate", "--sqlite-path", name, .. Small], _folder.Path);

        Assert.True(status == ExitCodes.Ok, stderr);
        // The journal went to the file of that exact name, and it is a SQLite database with events in it.
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _folder.File(name), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        db.Open();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM journal";
        Assert.True((long)count.ExecuteScalar()! > 0);
        Assert.False(File.Exists(_folder.File("a.db")));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_journal_in_a_read_only_directory_is_refused_before_anything_runs()
    {
        // As root a read-only directory is writable: the child runs as nobody (setpriv), so the folders must let it in.
        File.SetUnixFileMode(_folder.Path, (UnixFileMode)0b111_111_111);
        var readOnly = Directory.CreateDirectory(_folder.File("ro")).FullName;
        File.SetUnixFileMode(readOnly, (UnixFileMode)0b101_101_101);
        using var heki = HekiProcess.StartAsNobody(_folder.Path, ["simulate", "--sqlite-path", "ro/x.db", .. Small]);
        heki.StandardInput.Close();

        var status = heki.WaitForExit();

        Assert.Equal(ExitCodes.Usage, status);
        Assert.StartsWith("heki simulate: journal ro/x.db: cannot be created: directory ", heki.Stderr);
        Assert.Contains("is not writable", heki.Stderr);
        Assert.Single(heki.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_journal_whose_VMs_cannot_be_read_is_refused_before_the_run_naming_the_VM()
    {
        var path = _folder.File("unreadable.db");
        JournalFixtures.WithUnreadableEvent(path);
        var before = File.ReadAllBytes(path);

        var (status, stdout, stderr) = HekiProcess.Run(["simulate", "--sqlite-path", "unreadable.db", .. Small], _folder.Path);

        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal("", stdout);
        Assert.StartsWith("heki simulate: journal unreadable.db: VM sim-00000: event 1 cannot be read: ", stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_journal_that_fails_during_the_run_ends_it_with_a_report_instead_of_hanging()
    {
        // Sound as a file and empty, so it passes every check before the run; its writes fail, so the run's first does.
        var path = _folder.File("poison.db");
        JournalFixtures.WithFailingWrites(path);

        var (status, stdout, stderr) = HekiProcess.Run(["simulate", "--sqlite-path", "poison.db", .. Small], _folder.Path);

        Assert.Equal(ExitCodes.Failed, status);
        Assert.Matches(@"\nVMs +0 of 2 booted\n", stdout);
        Assert.Contains("heki simulate: the run stopped: the journal failed for vm-sim-0000", stderr);
        Assert.EndsWith("(journal poison.db)\n", stderr);
    }

    [Fact]
    public void A_second_simulate_on_the_same_journal_is_refused_at_once_naming_the_first_which_finishes_untouched()
    {
        using var first = HekiProcess.Start(_folder.Path,
            ["simulate", "--sqlite-path", "same.db", "--vms", "2", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic", "--duration", "3s", "--no-progress"]);
        first.StandardInput.Close();
        // The first holds the lock once its id is in the lock file, which happens before its actor system starts.
        var lockFile = _folder.File("same.db.lock");
        WaitUntil(() => File.Exists(lockFile) && File.ReadAllText(lockFile).StartsWith($"{first.Id}\n", StringComparison.Ordinal), first);

        // Another name of the same file: the lock follows the file, not the spelling.
        var (status, stdout, stderr) = HekiProcess.Run(["simulate", "--sqlite-path", "./sub/../same.db", .. Small], _folder.Path);

        Assert.Equal(ExitCodes.JournalInUse, status);
        Assert.StartsWith($"heki simulate: journal ./sub/../same.db is in use by process {first.Id} (heki simulate, started ", stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", stdout);
        Assert.Equal(ExitCodes.Ok, first.WaitForExit());
        Assert.Contains("attacks succeeded: hardened 0", first.Stdout);
        Assert.Equal("", File.ReadAllText(lockFile)); // released: the note is gone, the lock with the process
    }

    private void Make(string kind, string name)
    {
        switch (kind)
        {
            case "not-a-db" or "semicolon-not-a-db":
                File.WriteAllText(_folder.File(name), "not a db\n");
                break;
            case "truncated":
                JournalFixtures.WithUnreadableEvent(_folder.File("whole.db"), padding: 50);
                var bytes = File.ReadAllBytes(_folder.File("whole.db"));
                File.WriteAllBytes(_folder.File(name), bytes[..(bytes.Length / 2 + 100)]);
                break;
            case "directory":
                Directory.CreateDirectory(_folder.File(name));
                break;
            case "other-programs-database":
                JournalFixtures.Database(_folder.File(name), "CREATE TABLE bookmarks (url TEXT)");
                break;
        }
    }

    private static void WaitUntil(Func<bool> condition, HekiProcess process)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < HekiProcess.DefaultTimeout, $"gave up waiting.\nstderr:\n{process.Stderr}");
            Thread.Sleep(10);
        }
    }
}
