namespace HekiActors.Cli.Input;

/// <summary>Opens a file the user named as an input, or says in one line what is wrong with it.</summary>
public static class InputFile
{
    /// <summary>Opens <paramref name="path"/> for reading; null with <paramref name="problem"/> (without the path) when it cannot be.</summary>
    /// <remarks>.NET reports a directory as "Access to the path is denied": a user must be told it is a directory.</remarks>
    public static FileStream? TryOpen(string path, out string? problem)
    {
        problem = null;
        if (path.Length == 0)
        {
            problem = "the file name is empty";
            return null;
        }

        if (Directory.Exists(path))
        {
            problem = "is a directory, not a file";
            return null;
        }

        try
        {
            // Unbuffered: readers keep buffers of their own.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        }
        catch (FileNotFoundException)
        {
            problem = "no such file";
        }
        catch (DirectoryNotFoundException)
        {
            problem = $"no such file (directory {Path.GetDirectoryName(Path.GetFullPath(path))} does not exist)";
        }
        catch (UnauthorizedAccessException)
        {
            problem = Directory.Exists(path) ? "is a directory, not a file" : "permission denied";
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            problem = e.Message;
        }

        return null;
    }
}
