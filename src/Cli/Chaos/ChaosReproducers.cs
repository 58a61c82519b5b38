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
            var label = finding.IsDefect ? finding.Defect.ToString() : "bug";
            var path = System.IO.Path.Combine(directory, $"{result.Profile.Name()}-invariant{(int)finding.Invariant}-{label}.jsonl");
            await File.WriteAllTextAsync(path, ScriptChecker.Format(shrunk)).ConfigureAwait(false);
            reproducers.Add(new ChaosReproducer(finding, path, shrunk.Count, captured.Script.Count,
                await rfc.ShowsAsync(shrunk, finding.Kind).ConfigureAwait(false),
                await hardened.ShowsAsync(shrunk, finding.Kind).ConfigureAwait(false)));
        }

        return reproducers;
    }
}
