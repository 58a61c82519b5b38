using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Actors.Vm;

/// <summary>
/// A VM's durable state and its transitions, as plain code (the functional core of <see cref="VmActor"/>):
/// the attribute store, the CR pins, each vCPU's control registers and the answered request ids. A command
/// method applies the kernel rule and returns the event that records what changed (null when nothing did);
/// <see cref="Apply"/> replays such an event during recovery to the same state.
/// </summary>
public sealed class VmState
{
    private VmState(VmConfig config, VmMemoryAttributes memory, CrPins pins, ulong[][] controlRegisters, AnsweredRequests answered)
    {
        Config = config;
        Memory = memory;
        Pins = pins;
        ControlRegisters = controlRegisters;
        Answered = answered;
    }

    public VmConfig Config { get; }

    public VmMemoryAttributes Memory { get; }

    public CrPins Pins { get; private set; }

    /// <summary>CR0..CR15 of each vCPU; every CR of a new vCPU starts at 0 (§7).</summary>
    public ulong[][] ControlRegisters { get; }

    public AnsweredRequests Answered { get; }

    /// <summary>The request that created this incarnation, so a resent create is answered, not refused.</summary>
    public Guid CreatedBy { get; private init; }

    public static VmState Create(VmConfig config, Guid createdBy = default) => new(
        config,
        new VmMemoryAttributes(config.Profile, config.PrivateMemory),
        CrPins.None,
        Enumerable.Range(0, config.VcpuCount).Select(_ => new ulong[CrPinning.ControlRegisterCount]).ToArray(),
        new AnsweredRequests()) { CreatedBy = createdBy };

    /// <summary>KVM_HC_PROTECT_MEMORY (§5) for the profile; the event lists the ranges that were applied.</summary>
    public (ProtectMemoryOutcome Outcome, PermissionsChangedEvent? Event) Protect(Guid requestId, MemoryRange[][] listPages)
    {
        var outcome = ProtectMemory.Apply(Memory, listPages, Config.Mbec);
        var applied = outcome.Applied;
        PermissionsChangedEvent? ev = applied.Count > 0 || outcome.Ret == Errno.Ok
            ? new PermissionsChangedEvent(requestId, applied.ToArray(), outcome.Ret)
            : null;
        Answered.Remember(requestId, outcome.Ret);
        return (outcome, ev);
    }

    /// <summary>kvm_permissions_set called by the host (§3).</summary>
    public (int Ret, GfnRange Changed, PermissionsChangedEvent? Event) SetPermissions(Guid requestId, ulong start, ulong end, ulong attr)
    {
        var ret = Memory.PermissionsSet(start, end, attr, out var changed);
        Answered.Remember(requestId, ret);
        return ret == Errno.Ok
            ? (ret, changed, new PermissionsChangedEvent(requestId, [new AppliedRange(start, end, attr)], ret))
            : (ret, changed, null);
    }

    /// <summary>The VMM's KVM_SET_MEMORY_ATTRIBUTES (§4).</summary>
    public (int Ret, GfnRange Changed, MemoryAttributesChangedEvent? Event) SetMemoryAttributes(
        Guid requestId, ulong address, ulong size, ulong attributes, ulong flags)
    {
        var ret = Memory.SetMemoryAttributes(address, size, attributes, flags, out var changed);
        Answered.Remember(requestId, ret);
        return ret == Errno.Ok
            ? (ret, changed, new MemoryAttributesChangedEvent(requestId, address, size, attributes))
            : (ret, changed, null);
    }

    /// <summary>KVM_HC_LOCK_CR_UPDATE (§7): pins only ever added.</summary>
    public (long Ret, CrPinnedEvent? Event) LockCr(Guid requestId, ulong cr, ulong pin, ulong flags)
    {
        var ret = CrPinning.LockCrUpdate(cr, pin, flags, Pins, out var updated);
        Answered.Remember(requestId, ret);
        if (ret != Errno.Ok || updated == Pins)
            return (ret, null);
        Pins = updated;
        return (ret, new CrPinnedEvent(requestId, cr, pin));
    }

    /// <summary>A guest CR write (§7): refused when the new value lacks a pinned bit.</summary>
    public (CrWriteVerdict Verdict, CrWrittenEvent? Event) WriteCr(Guid requestId, int vcpu, int cr, ulong value)
    {
        var verdict = CrPinning.CrWriteCheck(cr, value, Pins);
        Answered.Remember(requestId, verdict.Allowed ? 1 : 0);
        if (!verdict.Allowed)
            return (verdict, null);
        ControlRegisters[vcpu][cr] = value;
        return (verdict, new CrWrittenEvent(requestId, vcpu, cr, value));
    }

    /// <summary>Replays one event (recovery). Returns the state to continue with (a new one for a new incarnation).</summary>
    public static VmState? Apply(VmState? state, IVmEvent ev)
    {
        switch (ev)
        {
            case VmConfiguredEvent configured:
                return Create(configured.Config, configured.RequestId);
            case VmDestroyedEvent:
                return null;
        }

        if (state is null)
            throw new InvalidOperationException($"journal holds {ev.GetType().Name} for a VM that was not configured");
        state.ApplyChange(ev);
        return state;
    }

    private void ApplyChange(IVmEvent ev)
    {
        switch (ev)
        {
            case PermissionsChangedEvent changed:
                foreach (var range in changed.Changes)
                    Memory.PermissionsSet(range.StartGfn, range.EndGfn, range.Permissions, out _);
                Answered.Remember(changed.RequestId, changed.Ret);
                break;
            case MemoryAttributesChangedEvent attributes:
                Memory.SetMemoryAttributes(attributes.Address, attributes.Size, attributes.Attributes, 0, out _);
                Answered.Remember(attributes.RequestId, Errno.Ok);
                break;
            case CrPinnedEvent pinned:
                Pins = Pins.With(pinned.Cr, pinned.Pin);
                Answered.Remember(pinned.RequestId, Errno.Ok);
                break;
            case CrWrittenEvent written:
                ControlRegisters[written.Vcpu][written.Cr] = written.Value;
                Answered.Remember(written.RequestId, 1);
                break;
            default:
                throw new InvalidOperationException($"unknown VM event {ev.GetType().Name}");
        }
    }

    public VmSnapshot ToSnapshot() => new(
        Config,
        Memory.Store.Runs.ToArray(),
        Pins.Cr0,
        Pins.Cr4,
        ControlRegisters.Select(crs => (ulong[])crs.Clone()).ToArray(),
        Answered.ToArray(),
        CreatedBy);

    public static VmState FromSnapshot(VmSnapshot snapshot)
    {
        var state = Create(snapshot.Config, snapshot.CreatedBy);
        state.Memory.Restore(snapshot.Runs);
        state.Pins = new CrPins(snapshot.Cr0Pins, snapshot.Cr4Pins);
        for (var i = 0; i < Math.Min(snapshot.ControlRegisters.Length, state.ControlRegisters.Length); i++)
            Array.Copy(snapshot.ControlRegisters[i], state.ControlRegisters[i],
                Math.Min(snapshot.ControlRegisters[i].Length, CrPinning.ControlRegisterCount));
        foreach (var answered in snapshot.Answered)
            state.Answered.Remember(answered.RequestId, answered.Result);
        return state;
    }
}
