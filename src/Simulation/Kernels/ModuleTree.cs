using System.Diagnostics.CodeAnalysis;
using HekiActors.Actors.Hosting;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// Finds the module files a <c>--modules</c> path names: a directory searched recursively (e.g.
/// <c>/lib/modules/6.1.0-47-amd64</c>), one module file, or a text file listing module paths one per line
/// (relative paths from the list's folder; blank lines and <c>#</c> comments skipped).
/// </summary>
public static class ModuleTree
{
    /// <summary>At most this many modules in one tree or list (a distribution kernel has about 4,000–6,000).</summary>
    public const int MaxModules = 100_000;

    /// <summary>Largest list file read (bytes).</summary>
    public const long MaxListBytes = 16L << 20;

    private static readonly string[] Suffixes = [".ko", ".ko.xz", ".ko.gz", ".ko.zst"];

    /// <summary>True for a file name a module can have: <c>.ko</c>, <c>.ko.xz</c>, <c>.ko.gz</c>, <c>.ko.zst</c>.</summary>
    public static bool IsModuleFile(string path) => Suffixes.Any(s => path.EndsWith(s, StringComparison.Ordinal));

    /// <summary>The module files <paramref name="path"/> names: a folder's sorted by ordinal path (so a sample or a seed picks the same ones everywhere), a list's in its order.</summary>
    public static bool TryFind(string path, [NotNullWhen(true)] out IReadOnlyList<string>? files, [NotNullWhen(false)] out string? error)
    {
        files = null;
        error = null;
        try
        {
            if (Directory.Exists(path))
            {
                var found = new List<string>();
                foreach (var file in Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
                {
                    if (!IsModuleFile(file))
                        continue;
                    if (found.Count == MaxModules)
                    {
                        error = $"{path}: more than {MaxModules} modules";
                        return false;
                    }

                    found.Add(file);
                }

                if (found.Count == 0)
                {
                    error = $"{path}: no module files (.ko, .ko.xz, .ko.gz, .ko.zst) under this folder";
                    return false;
                }

                found.Sort(StringComparer.Ordinal);
                files = found;
                return true;
            }

            if (!File.Exists(path))
            {
                error = $"{path}: no such file or folder";
                return false;
            }

            if (FileIdentity.SpecialKind(path) is { } kind)
            {
                error = $"{path}: is {kind}, not a regular file or a folder";
                return false;
            }

            if (IsModuleFile(path))
            {
                files = [path];
                return true;
            }

            return TryReadList(path, out files, out error);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"{path}: cannot be read ({ex.Message})";
            return false;
        }
    }

    private static bool TryReadList(string path, [NotNullWhen(true)] out IReadOnlyList<string>? files, [NotNullWhen(false)] out string? error)
    {
        files = null;
        if (new FileInfo(path).Length > MaxListBytes)
        {
            error = $"{path}: a module list of more than {MaxListBytes} bytes";
            return false;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var listed = new List<string>();
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            if (line.Contains('\0'))
            {
                error = $"{path}: line {number}: not a text list of module files (neither a folder, a .ko file nor a list)";
                return false;
            }

            if (!IsModuleFile(line))
            {
                error = $"{path}: line {number}: \"{Shorten(line)}\" is not a module file name (.ko, .ko.xz, .ko.gz, .ko.zst)";
                return false;
            }

            if (listed.Count == MaxModules)
            {
                error = $"{path}: more than {MaxModules} modules listed";
                return false;
            }

            listed.Add(Path.IsPathRooted(line) ? line : Path.Combine(folder, line));
        }

        if (listed.Count == 0)
        {
            error = $"{path}: lists no module files";
            return false;
        }

        files = listed;
        error = null;
        return true;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
