using Microsoft.Data.Sqlite;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// A journal file opened to be read and never changed (<c>heki journal</c>): checked like a simulation's journal but
/// opened read-only, locked for the time it is read so that no simulation starts on it meanwhile, and refused while a
/// simulation holds it. When a process that died left SQLite's rollback journal (<c>FILE-journal</c>) or write-ahead log
/// (<c>FILE-wal</c>) beside it, the file is read from a private copy that SQLite settles (rolls back the unfinished
/// transaction, or folds in the log): reading the file itself would need SQLite to write to it.
/// </summary>
public sealed class JournalForReading : IDisposable
{
    private static readonly string[] SqliteCompanions = ["-journal", "-wal"];

    private readonly JournalLock? _lock;
    private readonly string? _copyDirectory;

    private JournalForReading(string path, string readPath, JournalLock? held, string? copyDirectory)
    {
        Path = path;
        ReadPath = readPath;
        _lock = held;
        _copyDirectory = copyDirectory;
    }

    /// <summary>The journal as the user named it.</summary>
    public string Path { get; }

    /// <summary>The file to read: the journal itself, or its settled private copy.</summary>
    public string ReadPath { get; }

    /// <summary>Whether the journal is read from a copy (SQLite's files of an unfinished write were beside it).</summary>
    public bool ReadsCopy => _copyDirectory is not null;

    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <param name="owner">Written into the lock file for a refused simulation to name (e.g. "heki journal").</param>
    /// <param name="problem">What is wrong, one line without the path, when null is returned.</param>
    /// <param name="inUse">Whether the problem is that another process (a running simulation) holds the journal.</param>
    /// <remarks>
    /// A lock file that cannot be created (a read-only directory, another user's file) is not an error: no simulation
    /// can run there without one, and the reads are made under SQLite's own locking.
    /// </remarks>
    public static JournalForReading? TryOpen(string path, string owner, out string? problem, out bool inUse)
    {
        inUse = false;
        problem = SqliteJournal.CheckPath(path);
        if (problem is not null)
            return null;
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            // A run holds the lock of a journal it has not written yet (its actor system starting, a chaos run's child):
            // that journal is in use, not missing. No lock file (a mistyped path): nothing is created for it.
            if (File.Exists(JournalLock.LockPathFor(path)))
            {
                using var free = JournalLock.TryAcquire(path, owner, out var holder, out inUse);
                if (inUse)
                {
                    problem = holder;
                    return null;
                }
            }

            problem = "does not exist";
            return null;
        }

        var held = JournalLock.TryAcquire(path, owner, out var refusal, out inUse);
        if (held is null)
        {
            var lockPath = JournalLock.LockPathFor(path);
            if (inUse || Directory.Exists(lockPath) || new FileInfo(lockPath).LinkTarget is not null)
            {
                problem = refusal;
                return null;
            }
        }

        string? copy = null;
        try
        {
            var readPath = full;
            if (SqliteCompanions.Any(suffix => new FileInfo(full + suffix) is { Exists: true, Length: > 0 }))
            {
                // A fresh private directory (mode 0700) of a unique name, made by the runtime: no random id of ours.
                copy = Directory.CreateTempSubdirectory($"heki-journal-{Environment.ProcessId}-").FullName;
                readPath = Settle(full, copy, out problem);
            }

            problem ??= SqliteJournal.CheckReadable(readPath);
            if (problem is null)
                return new JournalForReading(path, readPath, held, copy);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be copied to be read ({(e is UnauthorizedAccessException ? "permission denied" : e.Message)})";
        }

        held?.Release(removeIfCreated: true);
        DeleteCopy(copy);
        return null;
    }

    /// <summary>
    /// Copies the journal and its SQLite files into <paramref name="directory"/>, lets SQLite settle the copy there (roll
    /// back, or check the log into the file), and returns the copy's path; only the copy is ever opened read-write.
    /// </summary>
    private static string Settle(string full, string directory, out string? problem)
    {
        problem = null;
        Directory.CreateDirectory(directory);
        var copy = System.IO.Path.Combine(directory, "journal.db");
        File.Copy(full, copy);
        foreach (var suffix in SqliteCompanions)
        {
            if (File.Exists(full + suffix))
                File.Copy(full + suffix, copy + suffix);
        }

        try
        {
            using var db = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = copy, Mode = SqliteOpenMode.ReadWrite, Pooling = false,
            }.ToString());
            db.Open();
            using var command = db.CreateCommand();
            // The first read rolls a hot journal back; the checkpoint and journal_mode fold a write-ahead log into the file.
            command.CommandText = "SELECT count(*) FROM sqlite_master; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;";
            command.ExecuteNonQuery();
        }
        catch (SqliteException e)
        {
            problem = $"its unfinished transaction cannot be settled in a copy: {SqliteJournal.Describe(e)}";
        }

        return copy;
    }

    private static void DeleteCopy(string? directory)
    {
        if (directory is null)
            return;
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temporary copy left behind costs disk space, nothing else.
        }
    }

    /// <summary>Releases the lock (removing a lock file it created) and deletes the copy.</summary>
    public void Dispose()
    {
        _lock?.Release(removeIfCreated: true);
        DeleteCopy(_copyDirectory);
    }
}
