namespace HekiActors.Vcpu.Guest;

/// <summary>Relative weights of reads, writes and fetches, the share of user-mode accesses and the locality (0..1).</summary>
public sealed record AccessMix(double Read, double Write, double Exec, double UserMode, double Locality)
{
    public static readonly AccessMix Default = new(0.6, 0.3, 0.1, 0.2, 0.95);
}
