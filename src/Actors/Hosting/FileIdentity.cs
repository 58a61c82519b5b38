namespace HekiActors.Actors.Hosting;

/// <summary>
/// Which file a path names: its absolute path with every symbolic link resolved and, where the file exists (on Linux),
/// its device and inode. Two paths name the same file when their devices and inodes match (hard links, bind mounts)
/// or, where either file does not exist yet, when their resolved paths do.
/// </summary>
/// <param name="Path">The path as the user gave it, for messages.</param>
/// <param name="ResolvedPath">Absolute, with symbolic links (in every component) and <c>.</c>/<c>..</c> resolved.</param>
public sealed record FileIdentity(string Path, string ResolvedPath, ulong? Device, ulong? Inode, uint? Type)
{
    /// <summary>Symbolic links followed in one path before giving up (Linux's own limit, ELOOP).</summary>
    private const int MaxLinks = 40;

    /// <summary>Identifies <paramref name="path"/> (relative paths are taken from the current directory).</summary>
    public static FileIdentity Of(string path)
    {
        var resolved = Resolve(path);
        // The kernel follows the links itself: /dev/stdout's /proc/self/fd/1 is a "magic" link no path text can follow.
        return LinuxFiles.TryStat(path, out var status)
            ? new FileIdentity(path, resolved, status.Device, status.Inode, status.Type)
            : new FileIdentity(path, resolved, null, null, null);
    }

    /// <summary>Identifies an open standard stream (0 input, 1 output, 2 error); null where that cannot be asked.</summary>
    public static FileIdentity? OfStandardStream(int fd, string name) =>
        LinuxFiles.TryStat(fd, out var status) ? new FileIdentity(name, name, status.Device, status.Inode, status.Type) : null;

    /// <summary>Whether the path names an existing regular file (as far as the system can be asked).</summary>
    public bool IsRegularFile => Type == LinuxFiles.RegularFile;

    /// <summary>Whether the path names an existing regular file, or nothing yet (a file that writing would create).</summary>
    public bool IsRegularFileOrAbsent => Type is null or LinuxFiles.RegularFile;

    /// <summary>
    /// What <paramref name="path"/> is when it exists but is neither a regular file nor a directory ("a FIFO", "a character
    /// device", ...), or null. A reader must not open such a path: a FIFO without a writer blocks the open forever, and a
    /// device like /dev/zero never ends.
    /// </summary>
    public static string? SpecialKind(string path) =>
        LinuxFiles.TryStat(path, out var status) ? status.Type switch
        {
            LinuxFiles.Fifo => "a FIFO (named pipe)",
            LinuxFiles.CharacterDevice => "a character device",
            LinuxFiles.BlockDevice => "a block device",
            LinuxFiles.Socket => "a socket",
            _ => null,
        } : null;

    public bool SameFileAs(FileIdentity other)
    {
        if (Device is { } device && Inode is { } inode && other.Device is { } otherDevice && other.Inode is { } otherInode)
            return device == otherDevice && inode == otherInode;
        return string.Equals(ResolvedPath, other.ResolvedPath,
            OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// realpath(3) without requiring the file to exist: each existing component that is a symbolic link is replaced by its
    /// target before the next is looked at, so <c>link/..</c> goes where the system would go, not where the text says.
    /// </summary>
    public static string Resolve(string path)
    {
        var full = System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.Combine(Directory.GetCurrentDirectory(), path);
        var root = System.IO.Path.GetPathRoot(full)!;
        var pending = new Stack<string>(Components(full[root.Length..]).Reverse());
        var current = root;
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                current = System.IO.Path.GetDirectoryName(current) ?? root;
                continue;
            }

            var next = System.IO.Path.Combine(current, part);
            string? target = null;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Cannot look: keep the name as it is.
            }

            if (target is null || ++links > MaxLinks)
            {
                current = next;
                continue;
            }

            // Restart from the target: an absolute target from the root, a relative one from the link's folder.
            var absolute = System.IO.Path.IsPathRooted(target) ? target : System.IO.Path.Combine(current, target);
            current = System.IO.Path.GetPathRoot(absolute)!;
            foreach (var component in Components(absolute[current.Length..]).Reverse())
                pending.Push(component);
        }

        return current;
    }

    private static IEnumerable<string> Components(string relative) =>
        relative.Split([System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
