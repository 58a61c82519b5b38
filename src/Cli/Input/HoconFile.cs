using Akka.Configuration;
using HekiActors.Cli.Simulate;

namespace HekiActors.Cli.Input;

/// <summary>Reads a HOCON settings file the user named (<c>heki node --config</c>, <c>--cluster-config</c>), or says in one line why not.</summary>
public static class HoconFile
{
    /// <summary>The largest file read (1 MiB): a settings file is a few lines; a device or FIFO must not be read without end.</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>The file's settings; null with <paramref name="problem"/> naming <paramref name="option"/> and the file when it cannot be read or parsed.</summary>
    public static Config? TryRead(string path, string option, out string? problem)
    {
        problem = null;
        // A directory is InputFile's to report, as for every file read; a FIFO or a device must not be opened at all.
        if (!Directory.Exists(path) && RegularFile.NotRegular(path) is { } what)
        {
            problem = $"{option} {path}: is {what}, not a settings file";
            return null;
        }

        using var stream = InputFile.TryOpen(path, out var openProblem);
        if (stream is null)
        {
            problem = $"{option} {path}: {openProblem}";
            return null;
        }

        string text;
        try
        {
            using var reader = new StreamReader(stream);
            var buffer = new char[MaxChars + 1];
            var read = reader.ReadBlock(buffer, 0, buffer.Length);
            if (read > MaxChars)
            {
                problem = $"{option} {path}: larger than {MaxChars / (1 << 20)} MiB: not a settings file";
                return null;
            }

            text = new string(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"{option} {path}: {e.Message}";
            return null;
        }

        // Akka's parser takes broken text without a word (a cut-off value, a stray brace) and loops on an unclosed list.
        if (HoconSyntax.Problem(text) is { } malformed)
        {
            problem = $"{option} {path} is not valid HOCON: {malformed}";
            return null;
        }

        Config config;
        try
        {
            // No include: Akka's parser has no file resolver here and crashed on one (a NullReferenceException).
            config = ConfigurationFactory.ParseString(text, include => throw new FormatException(
                $"include {OneLine(include)} is not supported: put the settings in the file itself"));
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or InvalidOperationException)
        {
            problem = $"{option} {path} is not valid HOCON: {Excerpt(e.Message, 160)}";
            return null;
        }

        // Akka's parser takes almost any text as keys ("<html>" or a sentence): a file that sets nothing of ours is a
        // wrong file, not settings to ignore.
        if (config.Root?.GetObject()?.Items.Keys.FirstOrDefault(key => !Roots.Contains(key)) is { } stranger)
        {
            problem = $"{option} {path}: '{Excerpt(stranger)}' is not a setting (a settings file has heki and akka sections only)";
            return null;
        }

        if (HekiOwnedSettings.Problem(config) is { } owned)
        {
            problem = $"{option} {path}: {owned}";
            return null;
        }

        // Akka reads its section only as a node or client starts, and its refusal came after Akka.Hosting printed a stack
        // on standard output: tried here, before anything starts.
        if (AkkaSettingsCheck.Problem(config) is { } refused)
        {
            problem = $"{option} {path}: {refused}";
            return null;
        }

        return config;
    }

    /// <summary>
    /// Whether <paramref name="problem"/> is one <see cref="TryRead"/> gave for the file <paramref name="path"/> given as
    /// <paramref name="option"/>: a settings file's problem is one line, without the <c>--help</c> hint (no option fixes it).
    /// </summary>
    public static bool IsAbout(string problem, string option, string? path) =>
        path is not null && (problem.StartsWith($"{option} {path}:", StringComparison.Ordinal) || problem.StartsWith($"{option} {path} ", StringComparison.Ordinal));

    /// <summary>The top-level sections a settings file may have.</summary>
    public static readonly IReadOnlySet<string> Roots = new HashSet<string>(["heki", "akka"], StringComparer.Ordinal);

    /// <summary>
    /// <paramref name="text"/> on one line, at most <paramref name="max"/> characters, control characters escaped (a
    /// binary file's bytes must not reach the terminal): the scenario files' quoting.
    /// </summary>
    internal static string Excerpt(string text, int max = 60) => ScenarioNode.Excerpt(OneLine(text), max);

    /// <summary>A parser's multi-line message on one line, for a one-line problem.</summary>
    public static string OneLine(string text) => string.Join(' ', text.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
}
