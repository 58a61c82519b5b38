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
    /// <remarks>Outputs over inputs or other outputs are <see cref="Conflict"/>'s.</remarks>
    public static string? Problem(string? report, string? findings, string? journal, string? acknowledgements, bool kill)
    {
        // An empty path was refused with the command line's problems (CommandLineProblems).
        if (findings is not null && File.Exists(findings))
            return $"--findings {findings} is a file: the reproducers go into a folder (created when absent)";
        if (findings is not null && FolderProblem(findings) is { } folder)
            return folder;
        var (log, logOption) = Log(journal, acknowledgements, kill);
        // The log is read back to continue a run: a device or FIFO would be read without end.
        if (log is not null && !FileIdentity.Of(log).IsRegularFileOrAbsent)
            return $"{logOption} {log} must be a regular file (it is read back to continue a run)";
        if (journal is not null && !FileIdentity.Of(journal).IsRegularFileOrAbsent)
            return $"--sqlite-path {journal} must be a regular file";

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

    /// <summary>
    /// An output of the run that is one of its inputs (the scenario file, the kernel and modules it names) or another of
    /// its outputs (the report, the journal and the files beside it, the acknowledgement log, every reproducer script it
    /// could write, standard output and error when they are files), as <c>heki simulate</c> refuses them; null when none is.
    /// Changes nothing. Checked before the scenario's values are used: <c>heki chaos ch.yaml &gt;ch.yaml</c> has emptied it.
    /// </summary>
    /// <param name="standardStreams">Also compare with standard output and error when they are files (<c>&gt;k.db</c>).</param>
    public static PathConflicts.Conflict? Conflict(string? scenarioPath, Scenario? scenario, string? report, string? findings, string? journal,
        string? acknowledgements, bool kill, bool standardStreams) =>
        PathConflicts.Find(Uses(scenarioPath, scenario, report, findings, journal, acknowledgements, kill), standardStreams);

    /// <summary>The acknowledgement log and how messages name it: with <c>--kill-process</c> the journal's path plus <c>.acks</c>.</summary>
    private static (string? Path, string Option) Log(string? journal, string? acknowledgements, bool kill) =>
        (kill && journal is not null ? journal + ".acks" : acknowledgements, kill ? "the acknowledgement log" : "--acknowledgements");

    private static IEnumerable<PathConflicts.Use> Uses(string? scenarioPath, Scenario? scenario, string? report, string? findings, string? journal,
        string? acknowledgements, bool kill)
    {
        foreach (var input in RunFileUses.Inputs(scenarioPath, scenario))
            yield return input;
        if (journal is not null)
        {
            foreach (var use in RunFileUses.Journal(journal, "--sqlite-path"))
                yield return use;
        }

        var (log, logOption) = Log(journal, acknowledgements, kill);
        if (log is not null)
            yield return new PathConflicts.Use(logOption, log, Writes: true);
        if (report is not null && report != StandardOutput)
            yield return new PathConflicts.Use("--report", report, Writes: true);
        if (findings is not null)
        {
            foreach (var script in ChaosReproducers.AllPaths(findings))
                yield return new PathConflicts.Use("the reproducer", script, Writes: true);
        }
    }
}
