namespace HekiActors.Protocol;

/// <summary>
/// Relative weights of a guest workload's reads, writes and fetches (any non-negative numbers; only their ratio
/// counts), the share of user-mode accesses (0..1) and the locality: the probability (0..1) that an access stays
/// near the previous one of its class.
/// </summary>
public sealed record WorkloadMix(double Read, double Write, double Exec, double UserMode, double Locality)
{
    public static readonly WorkloadMix Default = new(Read: 0.6, Write: 0.3, Exec: 0.1, UserMode: 0.2, Locality: 0.95);
}
