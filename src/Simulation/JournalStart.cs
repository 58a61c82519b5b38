using HekiActors.Memory.Vm;

namespace HekiActors.Simulation;

/// <summary>
/// What a run on a durable journal does with the VMs an earlier run left in it (issue 8 item 4; docs/reliability.md,
/// "A run on a journal that holds VMs"). The caller reads the journal and decides before anything runs: a run never
/// throws recovered protections away silently.
/// </summary>
/// <param name="Destroy">VMs to destroy before the run (<c>--fresh</c>): not part of the run, never recorded.</param>
/// <param name="Resume">VMs the run takes over instead of creating them (<c>--resume</c>), as the journal holds them, by VM id.</param>
public sealed record JournalStart(IReadOnlyList<string> Destroy, IReadOnlyDictionary<string, VmSnapshot> Resume)
{
    /// <summary>Nothing to do: the journal holds no VM, or it is not durable.</summary>
    public static readonly JournalStart None = new([], new Dictionary<string, VmSnapshot>(StringComparer.Ordinal));

    /// <summary>Destroy <paramref name="vmIds"/> first.</summary>
    public static JournalStart Fresh(IEnumerable<string> vmIds) => None with { Destroy = [.. vmIds] };

    /// <summary>Take over <paramref name="vms"/> (the run's VMs of those ids).</summary>
    public static JournalStart Resuming(IReadOnlyDictionary<string, VmSnapshot> vms) => None with { Resume = vms };
}
