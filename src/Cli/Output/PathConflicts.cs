using HekiActors.Actors.Hosting;

namespace HekiActors.Cli.Output;

/// <summary>
/// Finds an output that would overwrite one of the command's inputs or another of its outputs, before anything is
/// opened: two names are the same file when their resolved paths match (symbolic links followed) or, for files that
/// exist, when their device and inode do (hard links, bind mounts). Standard output and error count as outputs when
/// they are regular files (<c>&gt;k.db</c>).
/// </summary>
public static class PathConflicts
{
    public const string InputName = "standard input";

    /// <summary>A file the command reads or writes.</summary>
    /// <param name="Role">How the user named it: "--record", "the scenario file", "the journal".</param>
    /// <param name="Path">The path as given (null for a standard stream, whose role names it).</param>
    /// <param name="Writes">Whether the command writes it (a journal is read and written).</param>
    /// <param name="Label">How messages name it, when "Role Path" would not read well.</param>
    public sealed record Use(string Role, string? Path, bool Writes, string? Label = null)
    {
        public override string ToString() => Label ?? (Path is null ? Role : $"{Role} {Path}");
    }

    /// <summary>Two names of one file where at least one is written.</summary>
    /// <param name="Message">One line naming both.</param>
    /// <param name="StandardOutput">Standard output is one of the command's files: a message written there would land in it.</param>
    /// <param name="StandardError">Standard error is one of the command's files: a message written there would land in it.</param>
    public sealed record Conflict(string Message, bool StandardOutput, bool StandardError)
    {
        /// <summary>Where the message can be said without writing into a file at stake: standard error, else standard output, else nowhere.</summary>
        public TextWriter? SafeWriter(TextWriter output, TextWriter error) => !StandardError ? error : !StandardOutput ? output : null;
    }

    /// <summary>The first conflict; null when every output is a file of its own.</summary>
    /// <param name="standardStreams">Also compare with standard output and error (false in tests that capture them).</param>
    /// <param name="readsStandardInput">Standard input is one of the inputs (<c>heki replay - &lt;x &gt;&gt;x</c>).</param>
    /// <param name="overwritesInput">What writing over an input would do, for the message.</param>
    /// <param name="writesStandardOutput">False when the command leaves standard output unused (its output went to a file).</param>
    public static Conflict? Find(IEnumerable<Use> uses, bool standardStreams, bool readsStandardInput = false,
        string overwritesInput = "it would be overwritten", bool writesStandardOutput = true)
    {
        var files = uses.Distinct().Select(use => (Use: use, Id: FileIdentity.Of(use.Path!))).ToList();
        var streams = new List<(int Fd, string Name, bool Writes)>();
        if (standardStreams && writesStandardOutput)
            streams.Add((1, StandardStreams.OutputName, true));
        if (standardStreams)
            streams.Add((2, StandardStreams.ErrorName, true));
        if (readsStandardInput)
            streams.Add((0, InputName, false));
        foreach (var (fd, name, writes) in streams)
        {
            if (FileIdentity.OfStandardStream(fd, name) is { IsRegularFile: true } id)
                files.Add((new Use(name, null, writes), id));
        }

        for (var i = 0; i < files.Count; i++)
        {
            for (var j = i + 1; j < files.Count; j++)
            {
                var (a, idA) = files[i];
                var (b, idB) = files[j];
                if ((a.Writes || b.Writes) && Same(files[i], files[j]))
                {
                    var message = a.Writes && b.Writes
                        ? $"{b} and {a} are the same file: one would overwrite the other"
                        : $"{(a.Writes ? a : b)} is the same file as {(a.Writes ? b : a)}: {overwritesInput}";
                    return new Conflict(message, AtStake(files, StandardStreams.OutputName), AtStake(files, StandardStreams.ErrorName));
                }
            }
        }

        return null;
    }

    /// <summary>Only files can be overwritten: two outputs to one terminal, pipe or /dev/null are fine, and so is 2&gt;&amp;1.</summary>
    private static bool Same((Use Use, FileIdentity Id) a, (Use Use, FileIdentity Id) b) =>
        !(IsStandardOutput(a.Use) && IsStandardOutput(b.Use)) && a.Id.IsRegularFileOrAbsent && b.Id.IsRegularFileOrAbsent && a.Id.SameFileAs(b.Id);

    private static bool IsStandardOutput(Use use) => use.Path is null && use.Writes;

    /// <summary>Whether the standard stream named <paramref name="stream"/> is the same file as one of the command's named files.</summary>
    private static bool AtStake(List<(Use Use, FileIdentity Id)> files, string stream) =>
        files.Any(s => s.Use.Role == stream && files.Any(f => !ReferenceEquals(f.Use, s.Use) && !IsStandardOutput(f.Use) && Same(s, f)));
}
