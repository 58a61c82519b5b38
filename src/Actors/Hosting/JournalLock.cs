using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// Exclusive use of a journal file by one process: an exclusive lock on <c>JOURNAL.lock</c> beside it, held from before
/// the actor system starts until the process is done with the journal, and dropped by the kernel if the process dies.
/// The lock file holds the owner's process id and what it runs, so a refused process can say who has the journal.
/// </summary>
/// <remarks>
/// On Linux the lock is an open file description lock (fcntl F_OFD_SETLK): it conflicts with any other opening of the
/// file, even in the same process, and ignores the shared flock .NET takes on every file it opens, so others can still
/// read the owner's id. Elsewhere (or on a file system without such locks) .NET's own exclusive sharing mode is used,
/// and a refused process cannot name the owner. The file stays after the run (emptied): deleting a lock file races with
/// a process about to lock it; only the lock, not the file, means "in use".
/// </remarks>
public sealed class JournalLock : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly bool _created;
    private bool _released;

    private JournalLock(string journalPath, string lockPath, SafeFileHandle file, bool created)
    {
        JournalPath = journalPath;
        LockPath = lockPath;
        _file = file;
        _created = created;
    }

    public string JournalPath { get; }

    public string LockPath { get; }

    /// <summary>The lock file of a journal: the journal's resolved path (symbolic links followed) plus <c>.lock</c>.</summary>
    public static string LockPathFor(string journalPath) => FileIdentity.Resolve(journalPath) + ".lock";

    /// <summary>
    /// Locks <paramref name="journalPath"/> for this process, without waiting.
    /// </summary>
    /// <param name="owner">What this process is, written into the lock file for others to read (e.g. "heki simulate").</param>
    /// <param name="clock">The clock of the "started" time written beside <paramref name="owner"/> (null: the system clock).</param>
    /// <returns>The held lock, or null with <paramref name="refusal"/> saying why; <paramref name="inUse"/> tells whether another process holds it.</returns>
    public static JournalLock? TryAcquire(string journalPath, string owner, out string? refusal, out bool inUse, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var lockPath = LockPathFor(journalPath);
        refusal = null;
        inUse = false;
        // The lock file is written (emptied, then the owner's id): never through a link someone else placed there, which
        // would let them have a root-run heki truncate any file they point it at.
        if (new FileInfo(lockPath).LinkTarget is not null || Directory.Exists(lockPath))
        {
            refusal = $"its lock file {lockPath} is a {(Directory.Exists(lockPath) ? "directory" : "symbolic link")}; remove it";
            return null;
        }

        SafeFileHandle file;
        var created = !File.Exists(lockPath);
        try
        {
            file = File.OpenHandle(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (IOException e) when (IsSharingViolation(e))
        {
            // Another process holds the file under .NET's exclusive sharing mode (the fallback below).
            inUse = true;
            refusal = InUse(lockPath, null);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            refusal = $"cannot create its lock file {lockPath} ({(e is UnauthorizedAccessException ? "permission denied" : e.Message)})";
            return null;
        }

        if (LinuxFiles.TryStat((int)file.DangerousGetHandle(), out var status) && (status.Type != LinuxFiles.RegularFile || status.Links > 1))
        {
            file.Dispose();
            refusal = $"its lock file {lockPath} is not a plain file of its own (a device, or a hard link to another file); remove it";
            return null;
        }

        switch (LinuxFiles.TryLockExclusive(file, out _))
        {
            case LinuxFiles.LockResult.Locked:
                var held = new JournalLock(journalPath, lockPath, file, created);
                held.WriteOwner(owner, clock);
                return held;
            case LinuxFiles.LockResult.HeldByAnother:
                file.Dispose();
                inUse = true;
                refusal = InUse(lockPath, ReadOwner(lockPath));
                return null;
            default:
                file.Dispose();
                return TryAcquireShareNone(journalPath, lockPath, owner, created, clock, out refusal, out inUse);
        }
    }

    private static JournalLock? TryAcquireShareNone(string journalPath, string lockPath, string owner, bool created, TimeProvider clock,
        out string? refusal, out bool inUse)
    {
        refusal = null;
        inUse = false;
        try
        {
            var file = File.OpenHandle(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            var held = new JournalLock(journalPath, lockPath, file, created);
            held.WriteOwner(owner, clock);
            return held;
        }
        catch (IOException e) when (IsSharingViolation(e))
        {
            inUse = true;
            refusal = InUse(lockPath, null);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            refusal = $"cannot create its lock file {lockPath} ({(e is UnauthorizedAccessException ? "permission denied" : e.Message)})";
            return null;
        }
    }

    /// <summary>.NET's "used by another process": EWOULDBLOCK from its flock on Unix, ERROR_SHARING_VIOLATION on Windows.</summary>
    private static bool IsSharingViolation(IOException e) =>
        e.HResult == unchecked((int)0x80070020) || (!OperatingSystem.IsWindows() && e.HResult == 11);

    private static string InUse(string lockPath, string? owner) => $"is in use by {owner ?? "another process"}, which holds {lockPath}";

    private void WriteOwner(string owner, TimeProvider clock)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessId}\n{owner}, started {clock.GetUtcNow():yyyy-MM-dd HH:mm:ss}Z\n");
        try
        {
            RandomAccess.SetLength(_file, 0);
            RandomAccess.Write(_file, Encoding.UTF8.GetBytes(text), 0);
        }
        catch (IOException)
        {
            // The lock is what matters; without the note a refused process just cannot name this one.
        }
    }

    /// <summary>"process 1234 (heki simulate, started ...)" from the lock file, or null when it says nothing usable.</summary>
    private static string? ReadOwner(string lockPath)
    {
        try
        {
            using var reader = new StreamReader(new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1));
            var buffer = new char[512];
            var text = new string(buffer, 0, reader.ReadBlock(buffer, 0, buffer.Length));
            var lines = text.Split('\n', 3);
            if (!int.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                return null;
            var what = lines.Length > 1 && lines[1].Length > 0 ? $" ({new string(lines[1].Where(c => !char.IsControl(c)).ToArray())})" : "";
            return $"process {pid}{what}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Empties the lock file and releases the lock.</summary>
    public void Dispose() => Release(removeIfCreated: false);

    /// <summary>
    /// Releases the lock; with <paramref name="removeIfCreated"/>, also deletes the lock file if this lock created it
    /// (a refused journal should not leave a file behind).
    /// </summary>
    public void Release(bool removeIfCreated)
    {
        if (_released)
            return;
        _released = true;
        try
        {
            RandomAccess.SetLength(_file, 0);
            if (removeIfCreated && _created)
                File.Delete(LockPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Releasing matters more than the note or the file.
        }

        _file.Dispose();
    }
}
