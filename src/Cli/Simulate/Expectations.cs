using HekiActors.Memory;

namespace HekiActors.Cli.Simulate;

/// <summary>What each setting must be, worded once so a scenario file and the command line complain alike.</summary>
/// <remarks>The bounds are documented in scenarios/README.md ("Keys") and docs/reliability.md ("Limits").</remarks>
public static class Expectations
{
    /// <summary>Most VMs in one run. The memory estimate (<see cref="RunMemoryEstimate"/>) usually refuses far fewer; this
    /// bound keeps every count derived from the shape (vCPUs in all, VM ids) far from overflowing.</summary>
    public const int MaxVms = 10_000_000;

    /// <summary>KVM's limit on vCPUs per VM (KVM_MAX_VCPUS on x86).</summary>
    public const int MaxVcpus = VmConfig.MaxVcpus;

    /// <summary>The smallest guest memory the kernel layout fits in (SimulationSpec: ≥ 16 MiB).</summary>
    public const ulong MinMemoryMb = 16;

    /// <summary>The largest guest memory: 2^44 MiB is 2^64 bytes, the whole guest physical address space.</summary>
    public const ulong MaxMemoryMb = VmConfig.MaxMemoryMb;

    /// <summary>Largest relative weight of reads, writes or fetches (only their ratios matter).</summary>
    public const double MaxWeight = 1_000_000;

    /// <summary>
    /// The workload draws its read/write/fetch split and its user-mode share out of 65,536: a non-zero share below
    /// 1/65,536 would silently round to nothing, so it is refused (and locality, finer in the model, keeps the same rule).
    /// </summary>
    public const double WorkloadResolution = 1.0 / 65536;

    /// <summary>The smallest non-zero telemetry sampling ratio (one in a billion; smaller rounds to never).</summary>
    public const double MinRatio = 1e-9;

    public const string Boolean = "must be true or false";
    public const string Profile = "must be one of " + ProfileChoices.Expected;
    public const string Duration = "must be a duration from 1ms to 7 days (7d or 168h), such as 20s, 2m, 1m30s, 1h or 500ms: units d, h, m, s, ms, each once, largest first";
    public const string Journal = "must be inmem or sqlite";
    public const string Path = "must be a file path";
    public const string Ratio = "must be 0 or a number from 1e-9 to 1";
    public const string WorkloadFraction = "must be 0 or a number from 1/65536 (0.0000153) to 1";
    public const string ModuleChoice = "must be a number of modules or a comma-separated list of module names";
    public const string Kernel = "must be synthetic, debian, or the path of a bzImage, an ELF vmlinux or a guest-kernel data file";

    public static readonly string Vms = $"must be an integer from 1 to {MaxVms}";
    public static readonly string Vcpus = $"must be an integer from 1 to {MaxVcpus}";
    public static readonly string MemoryMb = $"must be an integer from {MinMemoryMb} to {MaxMemoryMb} (MiB)";
    public static readonly string AccessesPerVcpu = $"must be an integer from 1 to {long.MaxValue}";
    public static readonly string Rounds = $"must be an integer from 1 to {int.MaxValue}";
    public static readonly string AttackCount = $"must be an integer from 0 to {int.MaxValue}";
    public static readonly string Weight = $"must be a number from 0 to {MaxWeight:0}";
    public static readonly string Seed = $"must be an integer from 0 to {ulong.MaxValue}";
    public static readonly string Exporter = "must be one of " + string.Join(", ", TelemetryExporters.Known);

    public const string FaultRate = "must be a number from 0 to 1 (the probability per request)";
    public static readonly string FaultKind = "must be one of " + string.Join(", ", HekiActors.Simulation.Chaos.FaultKinds.All.Select(k => HekiActors.Simulation.Chaos.FaultKinds.Name(k)));
    public static readonly string FaultKinds = "must be all, none, or a list of fault kinds (" + string.Join(", ", HekiActors.Simulation.Chaos.FaultKinds.All.Select(k => HekiActors.Simulation.Chaos.FaultKinds.Name(k))) + ")";

    public const string InMemoryName = "inmem";
    public const string SqliteName = "sqlite";
}
