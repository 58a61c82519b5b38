namespace HekiActors.Cli.Simulate;

/// <summary>What each setting must be, worded once so a scenario file and the command line complain alike.</summary>
public static class Expectations
{
    /// <summary>KVM's limit on vCPUs per VM (KVM_MAX_VCPUS on x86).</summary>
    public const int MaxVcpus = 4096;

    /// <summary>The smallest guest memory the kernel layout fits in (SimulationSpec: ≥ 16 MiB).</summary>
    public const ulong MinMemoryMb = 16;

    public const string PositiveInteger = "must be a positive integer";
    public const string NonNegativeInteger = "must be a non-negative integer";
    public const string NonNegativeNumber = "must be a non-negative number";
    public const string Fraction = "must be a number from 0 to 1";
    public const string Boolean = "must be true or false";
    public const string Profile = "must be one of " + ProfileChoices.Expected;
    public const string Duration = "must be a positive duration such as 20s, 2m, 1m30s or 500ms";
    public const string Journal = "must be inmem or sqlite";
    public const string Path = "must be a file path";
    public const string ModuleChoice = "must be a number of modules or a comma-separated list of module names";
    public const string Kernel = "must be synthetic, debian, or the path of a bzImage, an ELF vmlinux or a guest-kernel data file";

    public static readonly string Vcpus = $"must be an integer from 1 to {MaxVcpus}";
    public static readonly string MemoryMb = $"must be an integer of at least {MinMemoryMb} (MiB)";
    public static readonly string Seed = $"must be an integer from 0 to {ulong.MaxValue}";
    public static readonly string Exporter = "must be one of " + string.Join(", ", TelemetryExporters.Known);

    public const string InMemoryName = "inmem";
    public const string SqliteName = "sqlite";
}
