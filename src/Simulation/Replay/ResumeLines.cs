using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Memory.Vm;

namespace HekiActors.Simulation.Replay;

/// <summary>
/// The replay lines that rebuild, on a fresh model, a VM as a durable journal holds it: what a recording of a resumed run
/// (<c>heki simulate --resume --record</c>) starts that VM with, so the recording replays (docs/replay-format.md,
/// "Resumed VMs"). Each line is tagged <c>"resumed": true</c> and, replayed in order, answers <c>"ok": true</c>,
/// <c>"ret": 0</c> or <c>"result": "ok"</c>.
/// </summary>
/// <remarks>
/// In order: <c>create_vm</c> with the VM's shape; <c>write_cr</c> of every non-zero control register (before any pin, so
/// none can be refused); <c>lock_cr</c> of the CR0 and CR4 pins (each the union of the pins the VM accepted, which is a pin
/// the VM accepts); <c>set_permissions</c> of each maximal run's heki bits (kvm_permissions_set, not the hypercall: it
/// forces no EXEC on, logs nothing, and on fresh pages applies in both profiles, immutable ones included); and
/// <c>set_memory_attributes</c> of runs the host made PRIVATE. The runs are disjoint, so their order does not matter.
/// </remarks>
public static class ResumeLines
{
    /// <summary>The extra field every line of a resumed VM's preamble carries.</summary>
    public static readonly ReplayTag Tag = new("resumed");

    /// <summary>The requests that rebuild <paramref name="state"/> as VM <paramref name="vmId"/> (none for a VM that does not exist).</summary>
    public static IEnumerable<ReplayRequest> For(string vmId, VmSnapshot state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Config is not { } config)
            yield break;
        yield return new CreateVmRequest(vmId, config.MemoryPages / VmConfig.PagesPerMiB, config.VcpuCount, config.Mbec, config.PrivateMemory);
        for (var vcpu = 0; vcpu < state.ControlRegisters.Length; vcpu++)
        {
            for (var cr = 0; cr < state.ControlRegisters[vcpu].Length; cr++)
            {
                if (state.ControlRegisters[vcpu][cr] != 0)
                    yield return new WriteCrRequest(vmId, vcpu, cr, state.ControlRegisters[vcpu][cr]);
            }
        }

        if (state.Cr0Pins != 0)
            yield return new LockCrRequest(vmId, 0, 0, state.Cr0Pins, 0);
        if (state.Cr4Pins != 0)
            yield return new LockCrRequest(vmId, 0, 4, state.Cr4Pins, 0);
        foreach (var run in state.Runs)
        {
            if ((run.Word & HekiAttributes.KvmHekiMask) != 0)
                yield return new SetPermissionsRequest(vmId, run.Start, run.End, HekiAttributes.FromKvm(run.Word));
        }

        foreach (var run in state.Runs)
        {
            if ((run.Word & HekiAttributes.KvmPrivate) != 0)
                yield return new SetMemoryAttributesRequest(vmId, run.Start << VmMemoryAttributes.PageShift,
                    (run.End - run.Start) << VmMemoryAttributes.PageShift, HekiAttributes.KvmPrivate, 0);
        }
    }
}
