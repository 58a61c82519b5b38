namespace HekiActors.Simulation.Chaos;

/// <summary>The faults <c>heki chaos</c> injects (docs/chaos.md). Each is decided per operation from the seed.</summary>
public enum FaultKind
{
    /// <summary>A request is lost before its VM sees it: the sender times out and resends it (same request id).</summary>
    DropRequest,

    /// <summary>A reply is lost: the sender resends the request, which must be answered from the VM's record.</summary>
    DropReply,

    /// <summary>A request is delivered twice: it must be applied once and answered the same both times.</summary>
    Duplicate,

    /// <summary>A request is held back and delivered later, after requests sent after it (a stale resend).</summary>
    Reorder,

    /// <summary>A request waits before it is delivered.</summary>
    Delay,

    /// <summary>The VM actor throws: its supervisor restarts it and it recovers from its journal.</summary>
    CrashVm,

    /// <summary>A vCPU actor throws: its VM restarts it and it re-attaches.</summary>
    CrashVcpu,

    /// <summary>The warning supervisor throws: its rate limiters must not start over.</summary>
    CrashWarnings,

    /// <summary>A journal write fails: the VM stops, recovers, and the request (unanswered) is resent.</summary>
    JournalWriteFailure,

    /// <summary>A journal write stalls before it completes.</summary>
    JournalStall,

    /// <summary>A VM's recovery read fails once: it is started again and recovers.</summary>
    JournalRecoveryFailure,

    /// <summary>The clock the warning rate limiter reads jumps (forward or back).</summary>
    ClockSkew,
}

/// <summary>Names of fault kinds as the report and the scenario file spell them.</summary>
public static class FaultKinds
{
    public static readonly FaultKind[] All = Enum.GetValues<FaultKind>();

    /// <summary>Faults the in-memory chaos journal injects (none on a SQLite journal).</summary>
    public static bool IsJournalFault(this FaultKind kind) =>
        kind is FaultKind.JournalWriteFailure or FaultKind.JournalStall or FaultKind.JournalRecoveryFailure;

    /// <summary>
    /// Whether a client of a cluster can inject the kind (<c>heki chaos --cluster</c>): message faults and crashes travel
    /// to the VM's node as messages; the warning supervisor and the clock its limiters read are on each node, and the
    /// chaos journal is in-memory in one process.
    /// </summary>
    public static bool ReachesCluster(this FaultKind kind) =>
        !kind.IsJournalFault() && kind is not (FaultKind.CrashWarnings or FaultKind.ClockSkew);

    /// <summary>snake_case, as in <c>--faults drop_reply,crash_vm</c> and the JSON report.</summary>
    public static string Name(this FaultKind kind) => kind switch
    {
        FaultKind.DropRequest => "drop_request",
        FaultKind.DropReply => "drop_reply",
        FaultKind.Duplicate => "duplicate",
        FaultKind.Reorder => "reorder",
        FaultKind.Delay => "delay",
        FaultKind.CrashVm => "crash_vm",
        FaultKind.CrashVcpu => "crash_vcpu",
        FaultKind.CrashWarnings => "crash_warnings",
        FaultKind.JournalWriteFailure => "journal_write_failure",
        FaultKind.JournalStall => "journal_stall",
        FaultKind.JournalRecoveryFailure => "journal_recovery_failure",
        FaultKind.ClockSkew => "clock_skew",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string text, out FaultKind kind) => TryParseName(text, All, Name, out kind);

    /// <summary>The kind among <paramref name="all"/> whose <paramref name="name"/> is <paramref name="text"/>.</summary>
    internal static bool TryParseName<T>(string text, IEnumerable<T> all, Func<T, string> name, out T kind)
        where T : struct, Enum
    {
        foreach (var candidate in all)
        {
            if (name(candidate) == text)
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
