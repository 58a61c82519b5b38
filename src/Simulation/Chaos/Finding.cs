namespace HekiActors.Simulation.Chaos;

/// <summary>The invariants the chaos oracle checks (docs/chaos.md), numbered as in the issue.</summary>
public enum Invariant
{
    /// <summary>1. No access completes that the acknowledged permissions forbid.</summary>
    ForbiddenAccess = 1,

    /// <summary>2. An immutable page never changes; a pinned CR bit is never cleared.</summary>
    ImmutableOrPinned = 2,

    /// <summary>3. Every acknowledged change survives every crash and restart (and is in force).</summary>
    AcknowledgedChange = 3,

    /// <summary>4. A failed multi-range hypercall changes nothing (and a list page never overflows the host).</summary>
    FailedBatchChangesNothing = 4,

    /// <summary>5. Warnings never exceed the profile's rate limit.</summary>
    WarningRateLimit = 5,
}

/// <summary>Which of the RFC's known defects (heki-semantics.md §2, §5) explains a finding; <see cref="None"/>: a bug.</summary>
public enum Defect
{
    None = 0,

    /// <summary>§2: set_attributes' subset check drops a pure downgrade (RW→R) and still returns 0.</summary>
    DroppedDowngrade,

    /// <summary>§5: a multi-range PROTECT_MEMORY stops at its first error with the earlier ranges applied.</summary>
    HalfAppliedBatch,

    /// <summary>§5: a list page claiming more than 169 ranges is read past its end (the host's heap).</summary>
    HostIntegrityFault,
}

/// <summary>Names of <see cref="Defect"/>s as telemetry spells them (<c>heki.chaos.label</c>).</summary>
public static class Defects
{
    /// <summary>snake_case, or "violation" for <see cref="Defect.None"/> (a finding no RFC defect explains).</summary>
    public static string Label(this Defect defect) => defect switch
    {
        Defect.None => Observability.HekiTagValues.Violation,
        Defect.DroppedDowngrade => "dropped_downgrade",
        Defect.HalfAppliedBatch => "half_applied_batch",
        Defect.HostIntegrityFault => "host_integrity_fault",
        _ => throw new ArgumentOutOfRangeException(nameof(defect), defect, null),
    };
}

/// <summary>One violated invariant, at the operation that revealed it.</summary>
/// <param name="Operation">Index of the revealing operation in the oracle's input (0-based).</param>
/// <param name="Vm">The VM it concerns (null for a host-wide warning limit).</param>
/// <param name="Detail">What was expected and what was observed.</param>
public sealed record Finding(Invariant Invariant, Defect Defect, long Operation, string? Vm, string Detail)
{
    /// <summary>A defect of the RFC (expected under heki-v2), not a bug of the model.</summary>
    public bool IsDefect => Defect != Defect.None;

    /// <summary>The kind of finding: one reproducer is written per kind.</summary>
    public (Invariant Invariant, Defect Defect) Kind => (Invariant, Defect);

    public override string ToString() =>
        $"invariant {(int)Invariant} ({Invariant}){(IsDefect ? $", RFC defect {Defect}" : ", bug")} at operation {Operation}"
        + $"{(Vm is null ? "" : $" on VM '{Vm}'")}: {Detail}";
}
