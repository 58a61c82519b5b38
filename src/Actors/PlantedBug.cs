namespace HekiActors.Actors;

/// <summary>
/// Bugs planted on purpose, one at a time, to prove the chaos oracle can fail (docs/chaos.md). Internal: only the
/// chaos runner's test-only setting reaches them, never a command line or a scenario file.
/// </summary>
internal enum PlantedBug
{
    None = 0,

    /// <summary>A VM acknowledges a change without shooting down the vCPUs' translations.</summary>
    SkippedShootdown,

    /// <summary>A VM acknowledges a change before its journal write is durable.</summary>
    AckBeforeDurable,

    /// <summary>A recovering VM drops its first permission-change event.</summary>
    EventDroppedOnRecovery,

    /// <summary>Every rate limiter lets one warning more than the burst through.</summary>
    WarningOverLimit,

    /// <summary>A VM ignores request ids: a duplicate is applied again.</summary>
    DuplicateAppliedTwice,
}

/// <summary>A sink that carries a planted bug to the warning supervisor (the chaos runner's, in tests only).</summary>
internal interface IPlantedBugCarrier
{
    PlantedBug Planted { get; }
}
