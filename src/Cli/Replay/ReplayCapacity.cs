using System.Globalization;
using HekiActors.Simulation.Replay;

namespace HekiActors.Cli.Replay;

/// <summary>
/// The VMs and vCPUs one replay may hold at once (replay-format.md, "Limits"): each vCPU is an actor with its
/// translation cache and mailbox, about 3 KB, so without a bound ~2,000 lines of 4,096-vCPU <c>create_vm</c>
/// would exhaust any machine. A <c>create_vm</c> that would exceed either bound gets an error line and creates
/// nothing (the format's contract for a refused line); destroying VMs makes room again.
/// </summary>
public sealed class ReplayCapacity(int maxVms = ReplayCapacity.MaxVms, long maxVcpus = ReplayCapacity.MaxVcpus)
{
    /// <summary>VMs alive at once.</summary>
    public const int MaxVms = 10_000;

    /// <summary>vCPUs of all live VMs together (16 VMs of KVM's maximum 4,096; about 200 MB of actors).</summary>
    public const long MaxVcpus = 65_536;

    private readonly Dictionary<string, int> _live = new(StringComparer.Ordinal);
    private long _vcpus;

    /// <summary>Why <paramref name="request"/> may not run (a create beyond the bounds), or null.</summary>
    public string? Refusal(ReplayRequest request)
    {
        if (request is not CreateVmRequest create || _live.ContainsKey(create.Vm))
            return null; // a VM id in use is the model's answer to give
        if (_live.Count >= maxVms)
            return $"replay holds at most {Count(maxVms)} VM{(maxVms == 1 ? "" : "s")} at once; destroy one first";
        if (_vcpus + create.Vcpus > maxVcpus)
            return $"replay holds at most {Count(maxVcpus)} vCPUs in all its VMs at once: {Count(_vcpus)} are in use, " +
                $"this VM's {Count(create.Vcpus)} would make {Count(_vcpus + create.Vcpus)}; destroy VMs first";
        return null;
    }

    /// <summary>Counts what <paramref name="request"/> did, from its <paramref name="result"/>.</summary>
    public void Record(ReplayRequest request, ReplayResult result)
    {
        if (result is not OkResult)
            return;
        if (request is CreateVmRequest create && _live.TryAdd(create.Vm, create.Vcpus))
            _vcpus += create.Vcpus;
        else if (request is DestroyVmRequest destroy && _live.Remove(destroy.Vm, out var vcpus))
            _vcpus -= vcpus;
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
