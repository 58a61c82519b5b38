using HekiActors.Actors.Hosting;
using HekiActors.Cli.Simulate;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;

namespace HekiActors.Cli.Output;

/// <summary>
/// A command's output files (<c>--report</c>, <c>--html</c>, <c>--record</c>): checked before anything runs, so a path
/// that can never be written is refused before the work rather than lost after it, and opened without ever waiting
/// forever: a FIFO that no program reads would block open(2) until one comes.
/// </summary>
public static class OutputFile
{
    /// <summary>
    /// Refuses an output that could not be written: its folder is missing, it is a folder, or it cannot be opened for
    /// writing (no permission, a read-only file system). Changes nothing: an existing file is opened without truncation
    /// and closed, a new one is created and removed at once. A device or pipe is only checked when it is written.
    /// </summary>
    /// <param name="option">The option in the user's words, for the message (<c>--html</c>).</param>
    /// <exception cref="UsageException">The output cannot be written; the message names it and why.</exception>
    public static void Check(string path, string option)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new UsageException($"{option} cannot write {path}: folder {directory} does not exist");
        }

        if (Directory.Exists(path))
        {
            throw new UsageException($"{option} cannot write {path}: it is a folder");
        }

        var target = FileIdentity.Of(path);
        if (!target.IsRegularFileOrAbsent)
        {
            return;
        }

        try
        {
            // Through a symbolic link, the file it names (the link itself stays).
            using var probe = target.IsRegularFile
                ? new FileStream(target.ResolvedPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1)
                : new FileStream(target.ResolvedPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option} cannot write {path}: {Reason(e, target.IsRegularFile)}");
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for writing: a regular file is created or truncated; a device (<c>/dev/null</c>) or a
    /// FIFO is written in place, and a FIFO that no program is reading fails at once rather than blocking.
    /// </summary>
    /// <exception cref="IOException">It cannot be opened; the message says why in the system's words.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission.</exception>
    public static FileStream OpenWrite(string path)
    {
        if (!IsFifo(path))
        {
            var regular = FileIdentity.Of(path).IsRegularFileOrAbsent;
            return new FileStream(path, regular ? FileMode.Create : FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 1);
        }

        // O_NONBLOCK: open fails with ENXIO when no program has the FIFO open for reading, instead of waiting for one.
        var fd = Syscall.open(path, OpenFlags.O_WRONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Stdlib.GetLastError();
            throw new IOException(errno == Errno.ENXIO
                ? "it is a FIFO (named pipe) that no program is reading: start its reader first"
                : Syscall.strerror(errno));
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        // Blocking writes from here on: a slow reader slows the writer, it does not fail it.
        var flags = Syscall.fcntl(fd, FcntlCommand.F_GETFL);
        if (flags < 0 || Syscall.fcntl(fd, FcntlCommand.F_SETFL, flags & ~(int)OpenFlags.O_NONBLOCK) < 0)
        {
            var errno = Stdlib.GetLastError();
            handle.Dispose();
            throw new IOException(Syscall.strerror(errno));
        }

        return new FileStream(handle, FileAccess.Write, bufferSize: 1);
    }

    /// <summary>
    /// Writes a whole output: opens <paramref name="path"/> (<see cref="OpenWrite"/>), lets <paramref name="write"/> fill
    /// it, and flushes; every failure, at open or at a write, is an <see cref="OutputFailedException"/> naming
    /// <paramref name="target"/>.
    /// </summary>
    /// <param name="target">The output in the user's words: "--html run.html".</param>
    public static void Write(string path, string target, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        FileStream created;
        try
        {
            created = OpenWrite(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputFailedException(target, e);
        }

        using var file = new CheckedStream(created, target);
        write(file);
        file.Flush();
    }

    private static bool IsFifo(string path) =>
        OperatingSystem.IsLinux() && Syscall.stat(path, out var status) == 0 && (status.st_mode & FilePermissions.S_IFMT) == FilePermissions.S_IFIFO;

    private static string Reason(Exception e, bool exists) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException or FileNotFoundException => exists ? "it cannot be opened" : "a file cannot be created there",
        _ => OutputFailedException.Describe(e),
    };
}
