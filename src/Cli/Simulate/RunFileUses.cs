using HekiActors.Actors.Hosting;
using HekiActors.Cli.Output;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// The files a run reads or writes as <see cref="PathConflicts"/> compares them, shared by <c>heki simulate</c> and
/// <c>heki chaos</c> so that both refuse the same overwrites (an output over the scenario file, its kernel, the journal).
/// </summary>
public static class RunFileUses
{
    /// <summary>The scenario file and the guest kernel and modules it names (synthetic and debian name no file).</summary>
    public static IEnumerable<PathConflicts.Use> Inputs(string? scenarioPath, Scenario? scenario)
    {
        if (scenarioPath is not null)
            yield return new PathConflicts.Use("the scenario file", scenarioPath, Writes: false);
        if (scenario?.Kernel is not { } kernel)
            yield break;
        if (kernel.Image is { } image && image is not (GuestKernelSettings.SyntheticName or GuestKernelSettings.DebianAlias
                or HekiActors.Simulation.Kernels.ShippedKernels.DebianName))
            yield return new PathConflicts.Use("the kernel", image, Writes: false);
        if (kernel.Modules is { } modules)
            yield return new PathConflicts.Use("the modules", modules, Writes: false);
    }

    /// <summary>A SQLite journal, and the files beside it: SQLite's own and our lock (an output there would corrupt the
    /// journal or void the lock).</summary>
    /// <param name="role">How messages name the journal ("the journal", "--sqlite-path").</param>
    public static IEnumerable<PathConflicts.Use> Journal(string journal, string role)
    {
        yield return new PathConflicts.Use(role, journal, Writes: true);
        foreach (var suffix in new[] { "-journal", "-wal", "-shm" })
            yield return new PathConflicts.Use("the journal's SQLite file", journal + suffix, Writes: true);
        yield return new PathConflicts.Use("the journal's lock file", JournalLock.LockPathFor(journal), Writes: true);
    }
}
