using Mono.Unix;

namespace HekiActors.Cli.Input;

/// <summary>
/// Whether a path a user named for reading a whole file is a regular file. A FIFO blocks at open until a writer comes and
/// may never end, /dev/zero never ends, a directory cannot be read: each is told by its file type (stat(2), following
/// symbolic links) before it is opened.
/// </summary>
internal static class RegularFile
{
    /// <summary>What <paramref name="path"/> is ("a FIFO", "a directory", ...) when it exists and is not a regular file; else null (the open reports a missing or unreadable file).</summary>
    public static string? NotRegular(string path)
    {
        if (OperatingSystem.IsWindows() || path.Length == 0)
            return null; // Windows has no FIFOs or device paths of this kind; an empty path fails at open with its own message.
        UnixFileInfo info;
        try
        {
            info = new UnixFileInfo(path);
            if (!info.Exists)
                return null;
        }
        catch (Exception e) when (e is UnixIOException or ArgumentException or InvalidOperationException)
        {
            return null; // Unreadable metadata (a permission problem): the open reports it.
        }

        return info.FileType switch
        {
            FileTypes.RegularFile => null,
            FileTypes.Directory => "a directory",
            FileTypes.Fifo => "a FIFO",
            FileTypes.CharacterDevice => "a character device",
            FileTypes.BlockDevice => "a block device",
            FileTypes.Socket => "a socket",
            _ => "not a regular file",
        };
    }
}
