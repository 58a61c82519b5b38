using HekiActors.Actors.Hosting;

namespace HekiActors.Cli.Simulate;

/// <summary>The scenario settings given as options, as typed; <see cref="ApplyTo"/> checks them and lays them over a scenario.</summary>
/// <remarks>
/// Options arrive as text and are checked here rather than by System.CommandLine's converters so that every bad value
/// gets the same wording as in a scenario file ("--vms must be a positive integer, got -3") and exit code 2.
/// Like a file, naming only one of --duration and --accesses-per-vcpu replaces whichever bound the scenario used.
/// </remarks>
public sealed record CommandLineOverrides
{
    public string? Vms { get; init; }
    public string? Vcpus { get; init; }
    public string? MemoryMb { get; init; }
    public string? Profile { get; init; }
    public bool? Mbec { get; init; }
    public string? Duration { get; init; }
    public string? AccessesPerVcpu { get; init; }
    public string? Rounds { get; init; }
    public string? Seed { get; init; }
    public string? Journal { get; init; }
    public string? SqlitePath { get; init; }

    public Scenario ApplyTo(Scenario scenario)
    {
        var spec = scenario.Spec;
        var profiles = scenario.Profiles;
        if (Vms is not null)
        {
            spec = spec with { Vms = (int)Integer("--vms", Vms, 1, Expectations.MaxVms, Expectations.Vms) };
        }

        if (Vcpus is not null)
        {
            spec = spec with { VcpusPerVm = (int)Integer("--vcpus", Vcpus, 1, Expectations.MaxVcpus, Expectations.Vcpus) };
        }

        if (MemoryMb is not null)
        {
            spec = spec with { MemoryMbPerVm = Unsigned("--memory-mb", MemoryMb, Expectations.MinMemoryMb, Expectations.MaxMemoryMb, Expectations.MemoryMb) };
        }

        if (Profile is not null)
        {
            profiles = ProfileChoices.TryParse(Profile, out var choice) ? choice : throw Bad("--profile", Expectations.Profile, Profile);
        }

        if (Mbec is { } mbec)
        {
            spec = spec with { Mbec = mbec };
        }

        if (Duration is not null)
        {
            spec = spec with
            {
                Duration = DurationText.TryParse(Duration, out var duration) ? duration : throw Bad("--duration", Expectations.Duration, Duration),
                AccessesPerVcpu = AccessesPerVcpu is null ? null : spec.AccessesPerVcpu,
            };
        }

        if (AccessesPerVcpu is not null)
        {
            spec = spec with
            {
                AccessesPerVcpu = Integer("--accesses-per-vcpu", AccessesPerVcpu, 1, long.MaxValue, Expectations.AccessesPerVcpu),
                Duration = Duration is null ? null : spec.Duration,
            };
        }

        if (Rounds is not null)
        {
            spec = spec with { Rounds = (int)Integer("--rounds", Rounds, 1, int.MaxValue, Expectations.Rounds) };
        }

        if (Seed is not null)
        {
            spec = spec with { Seed = Unsigned("--seed", Seed, 0, ulong.MaxValue, Expectations.Seed) };
        }

        if (Journal is not null)
        {
            spec = Journal switch
            {
                Expectations.InMemoryName => spec with { Journal = JournalKind.InMemory, SqlitePath = null },
                Expectations.SqliteName => spec with { Journal = JournalKind.Sqlite },
                _ => throw Bad("--journal", Expectations.Journal, Journal),
            };
        }

        if (SqlitePath is not null)
        {
            // The path implies a SQLite journal, unless --journal inmem says otherwise in the same breath.
            if (Journal == Expectations.InMemoryName)
            {
                throw new UsageException("--sqlite-path needs --journal sqlite (the inmem journal has no file)");
            }

            spec = SqlitePath.Length > 0
                ? spec with { Journal = JournalKind.Sqlite, SqlitePath = SqlitePath }
                : throw Bad("--sqlite-path", Expectations.Path, SqlitePath);
        }

        return scenario with { Spec = spec, Profiles = profiles };
    }

    private static long Integer(string option, string text, long min, long max, string expectation) =>
        NumberText.TryInteger(text, min, max, out var n) ? n : throw Bad(option, expectation, text);

    // Unlike a file's unsigned keys, an option takes no leading + (the file's YAML integers may carry one).
    private static ulong Unsigned(string option, string text, ulong min, ulong max, string expectation) =>
        !text.StartsWith('+') && NumberText.TryUnsigned(text, min, max, out var n) ? n : throw Bad(option, expectation, text);

    private static UsageException Bad(string option, string expectation, string got) =>
        new($"{option} {expectation}, got {(got.Length == 0 ? "nothing" : got)}");
}
