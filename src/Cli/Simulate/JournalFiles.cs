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
    /// <exception cref="UsageException">A path cannot hold a journal (missing directory, not a database, damaged, read-only...).</exception>
    /// <exception cref="JournalInUseException">Another process has the journal.</exception>
    public static JournalFiles Open(IEnumerable<string> paths)
    {
        var files = new JournalFiles();
        try
        {
            foreach (var path in paths)
            {
                // The path first: the lock file is created beside the journal, which must therefore be a place for one.
                if (SqliteJournal.CheckPath(path) is { } badPath)
                    throw new UsageException($"journal {path}: {badPath}");
                var held = JournalLock.TryAcquire(path, "heki simulate", out var refusal, out var inUse);
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

    public void Dispose()
    {
        foreach (var held in _locks)
            held.Dispose();
        _locks.Clear();
    }
}
