using HekiActors.Actors.Hosting;
using HekiActors.Cli.Output;
using HekiActors.Cli.Simulate;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Chaos;

/// <summary>
/// The files of <c>heki chaos</c>: checked before anything runs (an output that would overwrite an input or another
/// output, or that can never be written, is a usage error and changes nothing), and the reproducers' writing, whose
/// failure is an output failure (exit 74) rather than a crash.
/// </summary>
public static class ChaosFiles
{
    /// <summary><c>--report -</c>: the JSON on standard output instead of the table.</summary>
    public const string StandardOutput = "-";

    /// <summary>Why the command's files cannot be used as given, or null.</summary>
    /// <param name="kill"><c>--kill-process</c>: the acknowledgement log is the journal's path plus <c>.acks</c>.</param>
    /// <param name="standardStreams">Also compare with standard output and error when they are files (<c>&gt;k.db</c>).</param>
    public static string? Problem(string? report, string? findings, string? journal, string? acknowledgements, bool kill, bool standardStreams)
    {
        // An empty path was refused with the command line's problems (CommandLineProblems).
        if (findings is not null && File.Exists(findings))
            return $"--findings {findings} is a file: the reproducers go into a folder (created when absent)";
        if (findings is not null && FolderProblem(findings) is { } folder)
            return folder;
        var log = kill && journal is not null ? journal + ".acks" : acknowledgements;
        var logOption = kill ? "the acknowledgement log" : "--acknowledgements";
        // The log is read back to continue a run: a device or FIFO would be read without end.
        if (log is not null && !FileIdentity.Of(log).IsRegularFileOrAbsent)
            return $"{logOption} {log} must be a regular file (it is read back to continue a run)";
        if (journal is not null && !FileIdentity.Of(journal).IsRegularFileOrAbsent)
            return $"--sqlite-path {journal} must be a regular file";

        if (PathConflicts.Find(Uses(report, journal, log, logOption), standardStreams) is { } conflict)
            return conflict.Message;
        try
        {
            if (report is not null && report != StandardOutput)
                OutputFile.Check(report, "--report");
            if (log is not null)
                OutputFile.Check(log, logOption);
        }
        catch (UsageException e)
        {
            return e.Message;
        }

        if (log is not null && !kill && File.Exists(log))
        {
            try
            {
                AcknowledgementLog.Read(log);
            }
            catch (InvalidDataException e)
            {
                return $"--acknowledgements {log} is not a chaos acknowledgement log: {e.Message}";
            }
        }

        return null;
    }

    /// <summary>Shrinks and writes the run's reproducers into <paramref name="directory"/>.</summary>
    /// <exception cref="OutputFailedException">The folder or a script could not be written.</exception>
    public static IReadOnlyList<ChaosReproducer> WriteReproducers(ChaosResult result, string? directory)
    {
        try
        {
            return ChaosReproducers.WriteAsync(result, directory).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not OutputFailedException)
        {
            throw new OutputFailedException($"--findings {directory}", e);
        }
    }

    /// <summary>Whether the reproducers' folder can be made: found now rather than after the whole run. Changes nothing.</summary>
    private static string? FolderProblem(string findings)
    {
        var existing = Path.GetFullPath(findings);
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
                return $"--findings {findings}: {existing} is a file, not a folder";
            existing = Path.GetDirectoryName(existing);
            if (existing is null)
                return null;
        }

        var probe = Path.Combine(existing, $".heki-chaos-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"--findings cannot write into {existing}: {OutputFailedException.Describe(e)}";
        }
    }

    private static IEnumerable<PathConflicts.Use> Uses(string? report, string? journal, string? log, string logOption)
    {
        if (journal is not null)
        {
            yield return new PathConflicts.Use("--sqlite-path", journal, Writes: true);
            // SQLite's own files beside it: an output there would corrupt the journal.
            foreach (var suffix in new[] { "-journal", "-wal", "-shm" })
                yield return new PathConflicts.Use("the journal's SQLite file", journal + suffix, Writes: true);
            // And its lock: an output there would void the lock.
            yield return new PathConflicts.Use("the journal's lock file", JournalLock.LockPathFor(journal), Writes: true);
        }

        if (log is not null)
            yield return new PathConflicts.Use(logOption, log, Writes: true);
        if (report is not null && report != StandardOutput)
            yield return new PathConflicts.Use("--report", report, Writes: true);
    }
}
