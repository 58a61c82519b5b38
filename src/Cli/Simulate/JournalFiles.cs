using HekiActors.Actors.Hosting;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// The run's SQLite journal files, checked and locked before any actor system starts and held until the run is over:
/// a bad file is a usage error naming it, a file another process holds is refused at once (naming that process).
/// </summary>
public sealed class JournalFiles : IDisposable
{
    private readonly List<JournalLock> _locks = [];

    private JournalFiles()
    {
    }

    /// <summary>Checks and locks every path (none for an in-memory journal).</summary>
    /// <param name="owner">What this process runs, written into each lock file for a refused process to name.</param>
    /// <exception cref="UsageException">A path cannot hold a journal (missing directory, not a database, damaged, read-only...).</exception>
    /// <exception cref="JournalInUseException">Another process has the journal.</exception>
    public static JournalFiles Open(IEnumerable<string> paths, string owner = "heki simulate")
    {
        var files = new JournalFiles();
        try
        {
            foreach (var path in paths)
            {
                // The path first: the lock file is created beside the journal, which must therefore be a place for one.
                if (SqliteJournal.CheckPath(path) is { } badPath)
                    throw new UsageException($"journal {path}: {badPath}");
                var held = JournalLock.TryAcquire(path, owner, out var refusal, out var inUse);
                if (held is null)
                {
                    throw inUse
                        ? new JournalInUseException($"journal {path} {refusal}")
                        : new UsageException($"journal {path}: {SqliteJournal.CheckFile(path) ?? refusal}");
                }

                if (SqliteJournal.CheckFile(path) is { } badFile)
                {
                    held.Release(removeIfCreated: true);
                    throw new UsageException($"journal {path}: {badFile}");
                }

                files._locks.Add(held);
            }

            return files;
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Releases the locks and deletes the lock files this opening created: for a command refused after it took them,
    /// which must leave nothing behind.
    /// </summary>
    public void Abandon()
    {
        foreach (var held in _locks)
            held.Release(removeIfCreated: true);
        _locks.Clear();
    }

    public void Dispose()
    {
        foreach (var held in _locks)
            held.Dispose();
        _locks.Clear();
    }
}
