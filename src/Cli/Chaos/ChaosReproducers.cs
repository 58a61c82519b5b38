using HekiActors.Memory;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Chaos;

/// <summary>A finding's reproducer: the shrunk replay script's file, and what replaying it under each profile showed.</summary>
/// <param name="Path">The script, or null when the finding does not show without faults (nothing to replay).</param>
/// <param name="Lines">Lines of the shrunk script (and of the unshrunk one before it).</param>
public sealed record ChaosReproducer(Finding Finding, string? Path, int Lines, int OriginalLines, bool ConfirmedHekiV2, bool ConfirmedHardened);

/// <summary>Shrinks the first finding of each kind with ddmin and confirms it on fault-free models of both profiles.</summary>
public static class ChaosReproducers
{
    public static async Task<IReadOnlyList<ChaosReproducer>> WriteAsync(ChaosResult result, string? directory)
    {
        var reproducers = new List<ChaosReproducer>();
        if (result.Findings.Count == 0)
            return reproducers;
        await using var own = ScriptChecker.Start(result.Profile);
        await using var rfc = ScriptChecker.Start(HekiProfile.HekiV2);
        await using var hardened = ScriptChecker.Start(HekiProfile.Hardened);
        foreach (var captured in result.Findings)
        {
            var finding = captured.Finding;
            var shrunk = await own.ShrinkAsync(captured.Script, finding.Kind).ConfigureAwait(false);
            if (shrunk is null || directory is null)
            {
                reproducers.Add(new ChaosReproducer(finding, null, 0, captured.Script.Count, false, false));
                continue;
            }

            Directory.CreateDirectory(directory);
            var path = PathFor(directory, result.Profile, finding.Kind);
            await File.WriteAllTextAsync(path, ScriptChecker.Format(shrunk)).ConfigureAwait(false);
            reproducers.Add(new ChaosReproducer(finding, path, shrunk.Count, captured.Script.Count,
                await rfc.ShowsAsync(shrunk, finding.Kind).ConfigureAwait(false),
                await hardened.ShowsAsync(shrunk, finding.Kind).ConfigureAwait(false)));
        }

        return reproducers;
    }

    /// <summary>The script of the first finding of <paramref name="kind"/> under <paramref name="profile"/>.</summary>
    public static string PathFor(string directory, HekiProfile profile, (Invariant Invariant, Defect Defect) kind) =>
        System.IO.Path.Combine(directory,
            $"{profile.Name()}-invariant{(int)kind.Invariant}-{(kind.Defect != Defect.None ? kind.Defect.ToString() : "bug")}.jsonl");

    /// <summary>Every script a run could write into <paramref name="directory"/>: which ones it does is known only after the run,
    /// so every one of them is checked against the run's other files before it starts.</summary>
    public static IEnumerable<string> AllPaths(string directory) =>
        from profile in Enum.GetValues<HekiProfile>()
        from invariant in Enum.GetValues<Invariant>()
        from defect in Enum.GetValues<Defect>()
        select PathFor(directory, profile, (invariant, defect));
}
