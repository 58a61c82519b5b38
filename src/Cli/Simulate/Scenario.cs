using HekiActors.Actors.Hosting;
using HekiActors.Simulation;
using HekiActors.Memory;

namespace HekiActors.Cli.Simulate;

/// <summary>A validated scenario: the simulation to run, which profiles to run it under, and its telemetry wishes.</summary>
/// <param name="Name">Names the scenario in reports and record files: the file's name without extension, or "default".</param>
/// <param name="Spec">The run's settings; its <see cref="SimulationSpec.Profile"/> is replaced per run by <see cref="Profiles"/>.</param>
/// <param name="TelemetryExporters">Exporter names from the file (see <see cref="Simulate.TelemetryExporters"/>).</param>
public sealed record Scenario(string Name, ProfileChoice Profiles, SimulationSpec Spec, IReadOnlyList<string> TelemetryExporters)
{
    public const string DefaultName = "default";

    /// <summary>Where a SQLite journal goes when the scenario asks for one without naming a file.</summary>
    public const string DefaultSqlitePath = "heki-simulate.db";

    /// <summary>The built-in scenario <c>heki simulate</c> runs with no arguments (<see cref="SimulationSpec.Default"/>).</summary>
    public static Scenario Default { get; } = new(DefaultName, ProfileChoice.Hardened, SimulationSpec.Default(), []);

    /// <summary>The guest kernel as the file and the command line named it (the spec carries the kernel read from it).</summary>
    public GuestKernelSettings? Kernel { get; init; }

    /// <summary>One spec per profile to run, in report order.</summary>
    public IReadOnlyList<SimulationSpec> Specs()
    {
        var profiles = Profiles.Profiles();
        return profiles.Select(profile => Spec with
        {
            Profile = profile,
            SqlitePath = Spec.Journal == JournalKind.Sqlite
                // Each profile gets its own journal file: the second run must not recover the first run's VMs.
                ? profiles.Count > 1 ? PerProfilePath(Spec.SqlitePath ?? DefaultSqlitePath, profile) : Spec.SqlitePath ?? DefaultSqlitePath
                : null,
        }).ToList();
    }

    /// <summary><c>run.jsonl</c> → <c>run.heki-v2.jsonl</c>: the file a per-profile output goes to when both profiles run.</summary>
    public static string PerProfilePath(string path, HekiProfile profile)
    {
        var directory = Path.GetDirectoryName(path);
        var extension = Path.GetExtension(path);
        var file = Path.GetFileNameWithoutExtension(path) + "." + profile.Name() + extension;
        return string.IsNullOrEmpty(directory) ? file : Path.Combine(directory, file);
    }
}
