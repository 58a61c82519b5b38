namespace HekiActors.Observability;

/// <summary>
/// The figures of one run in the words of <see cref="HekiVocabulary"/>: every field is one count the vocabulary
/// defines, and the report, the JSON, the progress line and the metrics all mean the same thing by it.
/// Counts are deterministic for a simulation's spec and seed (a duration bound makes the workload's share vary).
/// </summary>
public sealed record HekiCounts
{
    public static readonly HekiCounts Zero = new();

    /// <summary>Generated workload accesses by outcome.</summary>
    public long WorkloadPermitted { get; init; }
    public long WorkloadPageFaults { get; init; }
    public long WorkloadMmio { get; init; }

    /// <summary>Accesses sent one at a time (the attacker's probes) by outcome.</summary>
    public long AttackPermitted { get; init; }
    public long AttackPageFaults { get; init; }
    public long AttackMmio { get; init; }

    public long CrPinBlocks { get; init; }

    /// <summary>Hypercalls by result name (<see cref="HekiTagValues.Results"/> order).</summary>
    public long[] HypercallsByResult { get; init; } = new long[HekiTagValues.Results.Length];

    /// <summary>Hypercalls the vCPU refused because the caller was not at CPL 0 (also counted in <see cref="HypercallsByResult"/>).</summary>
    public long HypercallsRefusedCpl { get; init; }

    public long ImmutableRejections { get; init; }
    public long TranslationFills { get; init; }
    public long TranslationInvalidations { get; init; }
    public long WarningsEmitted { get; init; }
    public long WarningsSuppressed { get; init; }
    public long BootProtectionFailures { get; init; }
    public long HostIntegrityFaults { get; init; }
    public long AttacksBlocked { get; init; }
    public long AttacksSucceeded { get; init; }

    public long WorkloadAccesses => WorkloadPermitted + WorkloadPageFaults + WorkloadMmio;
    public long AttackAccesses => AttackPermitted + AttackPageFaults + AttackMmio;
    public long Accesses => WorkloadAccesses + AttackAccesses;
    public long Permitted => WorkloadPermitted + AttackPermitted;
    public long PageFaults => WorkloadPageFaults + AttackPageFaults;
    public long Mmio => WorkloadMmio + AttackMmio;
    public long Violations => PageFaults + CrPinBlocks;
    public long Hypercalls => HypercallsByResult.Sum();
    public long HypercallsFailed => Hypercalls - HypercallsByResult[0];

    /// <summary>The sum of two runs' counts (or of two VMs' counts).</summary>
    public HekiCounts Add(HekiCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new HekiCounts
        {
            WorkloadPermitted = WorkloadPermitted + other.WorkloadPermitted,
            WorkloadPageFaults = WorkloadPageFaults + other.WorkloadPageFaults,
            WorkloadMmio = WorkloadMmio + other.WorkloadMmio,
            AttackPermitted = AttackPermitted + other.AttackPermitted,
            AttackPageFaults = AttackPageFaults + other.AttackPageFaults,
            AttackMmio = AttackMmio + other.AttackMmio,
            CrPinBlocks = CrPinBlocks + other.CrPinBlocks,
            HypercallsByResult = HypercallsByResult.Zip(other.HypercallsByResult, (a, b) => a + b).ToArray(),
            HypercallsRefusedCpl = HypercallsRefusedCpl + other.HypercallsRefusedCpl,
            ImmutableRejections = ImmutableRejections + other.ImmutableRejections,
            TranslationFills = TranslationFills + other.TranslationFills,
            TranslationInvalidations = TranslationInvalidations + other.TranslationInvalidations,
            WarningsEmitted = WarningsEmitted + other.WarningsEmitted,
            WarningsSuppressed = WarningsSuppressed + other.WarningsSuppressed,
            BootProtectionFailures = BootProtectionFailures + other.BootProtectionFailures,
            HostIntegrityFaults = HostIntegrityFaults + other.HostIntegrityFaults,
            AttacksBlocked = AttacksBlocked + other.AttacksBlocked,
            AttacksSucceeded = AttacksSucceeded + other.AttacksSucceeded,
        };
    }
}
