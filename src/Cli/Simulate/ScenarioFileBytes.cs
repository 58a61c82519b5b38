using HekiActors.Cli.Input;

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
        if (RegularFile.NotRegular(path) is { } what)
            throw new UsageException($"{path}: is {what}; a scenario must be a regular file");
    }
}
