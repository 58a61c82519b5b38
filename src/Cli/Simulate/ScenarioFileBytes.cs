using Mono.Unix;

namespace HekiActors.Cli.Simulate;

/// <summary>Reads a scenario file's bytes with bounds: regular files only, at most <see cref="ScenarioFile.MaxFileBytes"/>.</summary>
/// <remarks>
/// A FIFO blocks at open until a writer comes and may never end, /dev/zero never ends, a directory cannot be read:
/// each is refused by its file type (stat(2), following symbolic links) before it is opened. Reading stops one byte
/// past the cap whatever the file claims, so a file that grows while it is read cannot fill memory either.
/// </remarks>
internal static class ScenarioFileBytes
{
    public static byte[] Read(string path)
    {
        RefuseNonRegular(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            var buffer = new byte[ScenarioFile.MaxFileBytes + 1];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
            }

            if (total > ScenarioFile.MaxFileBytes)
            {
                throw new UsageException($"{path}: a scenario file must not exceed {ScenarioFile.MaxFileBytes:N0} bytes");
            }

            return buffer[..total];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"{path}: cannot read the scenario file: {e.Message}");
        }
    }

    private static void RefuseNonRegular(string path)
    {
        if (OperatingSystem.IsWindows() || path.Length == 0)
        {
            return; // Windows has no FIFOs or device paths of this kind; an empty path fails at open with its own message.
        }

        UnixFileInfo info;
        try
        {
            info = new UnixFileInfo(path);
            if (!info.Exists)
            {
                return; // The open below says "could not find", in .NET's words like every other missing file.
            }
        }
        catch (Exception e) when (e is UnixIOException or ArgumentException or InvalidOperationException)
        {
            return; // Unreadable metadata (a permission problem): the open below reports it.
        }

        var type = info.FileType;
        if (type == FileTypes.RegularFile)
        {
            return;
        }

        var what = type switch
        {
            FileTypes.Directory => "a directory",
            FileTypes.Fifo => "a FIFO",
            FileTypes.CharacterDevice => "a character device",
            FileTypes.BlockDevice => "a block device",
            FileTypes.Socket => "a socket",
            _ => "not a regular file",
        };
        throw new UsageException($"{path}: is {what}; a scenario must be a regular file");
    }
}
