using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Vm;

/// <summary>
/// The VM's functional core: <see cref="Decide"/> turns a command into events, an answer and warning lines without
/// changing anything; <see cref="Evolve(VmState?, IVmEvent, out GfnRange)"/> applies one event. The VM actor
/// persists a decision's events, evolves its state with them, shoots down what changed and replies; recovery
/// evolves the same events, so the state after recovery is the state the live decisions built.
/// </summary>
/// <remarks>
/// Duplicates (heki-semantics.md is silent; the guide: "a duplicate is applied once"): a request that was answered
/// with a change is remembered in the state (bounded, <see cref="AnsweredRequests.DefaultCapacity"/>) and answered
/// again from that record without events. A request that changed nothing is not recorded: deciding it again gives
/// the same answer, because what it could depend on only grows (immutable pages, pins), except that a multi-range
/// list may fail on an earlier range that has become immutable since (a refusal either way). A create is answered
/// from <see cref="VmState.CreatedBy"/>; a destroy from <see cref="VmState.RecentDestroys"/>, which a later
/// incarnation keeps, so a resent destroy never destroys a newer VM of the same id.
/// </remarks>
public static class VmCore
{
    /// <summary>
    /// Decides <paramref name="command"/> against <paramref name="state"/> (null: the VM was never created). Never
    /// changes <paramref name="state"/>: a single PROTECT range is checked in place, a longer list runs on a scratch
    /// copy of the store (a later range sees an earlier one, §5).
    /// </summary>
    public static VmDecision Decide(VmState? state, VmCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        state ??= VmState.Initial();
        switch (command)
        {
            case VmCommand.Create create:
                if (!state.IsAlive)
                    return new VmDecision([new VmConfiguredEvent(create.Config, create.RequestId)], VmOutcome.Created.Instance, []);
                return create.RequestId != Guid.Empty && create.RequestId == state.CreatedBy
                    ? VmDecision.Answer(VmOutcome.Created.Instance)
                    : VmDecision.Reject(RejectionCode.VmExists, Rejections.VmExists(create.VmId));
            case VmCommand.Destroy destroy:
                if (state.WasDestroyedBy(destroy.RequestId))
                    return VmDecision.Answer(VmOutcome.Destroyed.Instance);
                if (!state.IsAlive)
                    return VmDecision.Reject(RejectionCode.NoSuchVm, Rejections.NoSuchVm(destroy.VmId));
                return new VmDecision([new VmDestroyedEvent(destroy.RequestId, RememberDestroy(state.RecentDestroys, destroy.RequestId))],
                    VmOutcome.Destroyed.Instance, []);
        }

        if (!state.IsAlive)
            return VmDecision.Reject(RejectionCode.NoSuchVm, Rejections.NoSuchVm(command.VmId));
        if (state.TryGetAnswer(command.RequestId, out var answered))
            return VmDecision.Answer(Recorded(state, command, answered));
        return command switch
        {
            VmCommand.Protect protect => DecideProtect(state, protect),
            VmCommand.SetPermissions set => DecideSetPermissions(state, set),
            VmCommand.SetMemoryAttributes set => DecideSetMemoryAttributes(state, set),
            VmCommand.LockCr lockCr => DecideLockCr(state, lockCr),
            VmCommand.WriteCr write => DecideWriteCr(state, write),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command, "unknown VM command"),
        };
    }

    /// <summary>Applies <paramref name="ev"/>; see <see cref="Evolve(VmState?, IVmEvent, out GfnRange)"/>.</summary>
    public static VmState Evolve(VmState? state, IVmEvent ev) => Evolve(state, ev, out _);

    /// <summary>
    /// The state after <paramref name="ev"/> (<paramref name="state"/> null: nothing before it). Linear: the state
    /// passed in is changed in place and spent (see <see cref="VmState"/>); use only the one returned.
    /// <paramref name="changed"/> covers every gfn whose word changed: the translations to shoot down.
    /// </summary>
    /// <exception cref="InvalidOperationException">The event cannot follow the state (a corrupt journal).</exception>
    public static VmState Evolve(VmState? state, IVmEvent ev, out GfnRange changed)
    {
        ArgumentNullException.ThrowIfNull(ev);
        changed = GfnRange.Empty;
        switch (ev)
        {
            case VmConfiguredEvent configured:
                return VmState.Configured(state, configured.Config, configured.RequestId);
            case VmDestroyedEvent destroyed:
                return VmState.Destroyed(state, destroyed.RecentDestroys ?? []);
        }

        if (state is not { IsAlive: true })
            throw new InvalidOperationException($"journal holds {ev.GetType().Name} for a VM that was not configured");
        var body = state.TakeOver();
        var memory = body.Memory!;
        switch (ev)
        {
            case PermissionsChangedEvent permissions:
                foreach (var range in permissions.Changes)
                {
                    memory.PermissionsSet(range.StartGfn, range.EndGfn, range.Permissions, out var rangeChanged);
                    changed = changed.Union(rangeChanged);
                }

                body.Answered!.Remember(permissions.RequestId, new RecordedAnswer(permissions.Ret, permissions.HostIntegrityFaults));
                break;
            case MemoryAttributesChangedEvent attributes:
                memory.SetMemoryAttributes(attributes.Address, attributes.Size, attributes.Attributes, 0, out changed);
                body.Answered!.Remember(attributes.RequestId, new RecordedAnswer(Errno.Ok));
                break;
            case CrPinnedEvent pinned:
                body.Pins = body.Pins.With(pinned.Cr, pinned.Pin);
                body.Answered!.Remember(pinned.RequestId, new RecordedAnswer(Errno.Ok));
                break;
            case CrWrittenEvent written:
                body.ControlRegisters[written.Vcpu][written.Cr] = written.Value;
                body.Answered!.Remember(written.RequestId, new RecordedAnswer(1));
                break;
            default:
                throw new InvalidOperationException($"unknown VM event {ev.GetType().Name}");
        }

        return VmState.Of(body);
    }

    // ---- decisions ------------------------------------------------------------------------------------------

    private static VmDecision DecideProtect(VmState state, VmCommand.Protect protect)
    {
        var outcome = ProtectMemory.Evaluate(state.Memory, protect.ListPages, state.Config.Mbec);
        // heki-v2 keeps the ranges before a failing one (§5): a failure can still change the VM.
        IVmEvent[] events = outcome.Applied.Count > 0 || outcome.Ret == Errno.Ok
            ? [new PermissionsChangedEvent(protect.RequestId, [.. outcome.Applied], outcome.Ret, outcome.HostIntegrityFaults)]
            : [];
        return new VmDecision(events, new VmOutcome.Returned(outcome.Ret, outcome.HostIntegrityFaults), outcome.Warnings);
    }

    private static VmDecision DecideSetPermissions(VmState state, VmCommand.SetPermissions set)
    {
        var ret = state.Memory.PermissionsSetCheck(set.Start, set.End, set.Attr);
        return ret switch
        {
            Errno.Ok => new VmDecision([new PermissionsChangedEvent(set.RequestId, [new AppliedRange(set.Start, set.End, set.Attr)], ret)],
                new VmOutcome.Returned(ret), []),
            Errno.EPERM => new VmDecision([], new VmOutcome.Returned(ret),
                [WarningLine.ImmutableChange(set.Start, set.End)]),
            _ => VmDecision.Answer(new VmOutcome.Returned(ret)),
        };
    }

    private static VmDecision DecideSetMemoryAttributes(VmState state, VmCommand.SetMemoryAttributes set)
    {
        var ret = state.Memory.SetMemoryAttributesCheck(set.Address, set.Size, set.Attributes, set.Flags);
        return ret == Errno.Ok
            ? new VmDecision([new MemoryAttributesChangedEvent(set.RequestId, set.Address, set.Size, set.Attributes)], new VmOutcome.Returned(ret), [])
            : VmDecision.Answer(new VmOutcome.Returned(ret));
    }

    private static VmDecision DecideLockCr(VmState state, VmCommand.LockCr lockCr)
    {
        var pins = state.Pins;
        var ret = CrPinning.LockCrUpdate(lockCr.Cr, lockCr.Pin, lockCr.Flags, pins, out var updated);
        // Pins only grow: a pin already in place is answered 0 with nothing to record.
        return ret == Errno.Ok && updated != pins
            ? new VmDecision([new CrPinnedEvent(lockCr.RequestId, lockCr.Cr, lockCr.Pin)], new VmOutcome.Returned(ret), [])
            : VmDecision.Answer(new VmOutcome.Returned(ret));
    }

    private static VmDecision DecideWriteCr(VmState state, VmCommand.WriteCr write)
    {
        if (write.Vcpu < 0 || write.Vcpu >= state.VcpuCount)
            return VmDecision.Reject(RejectionCode.NoSuchVcpu, Rejections.NoSuchVcpu(write.VmId, write.Vcpu, state.VcpuCount));
        if (write.Cr < 0 || write.Cr >= CrPinning.ControlRegisterCount)
            return VmDecision.Reject(RejectionCode.NoSuchControlRegister, Rejections.NoSuchControlRegister(write.Cr));
        var verdict = CrPinning.CrWriteCheck(write.Cr, write.Value, state.Pins);
        if (!verdict.Allowed)
            return new VmDecision([], new VmOutcome.CrWrite(false, write.Cr, state.ControlRegister(write.Vcpu, write.Cr)),
                verdict.Warning is { } warning ? [warning] : []);
        return new VmDecision([new CrWrittenEvent(write.RequestId, write.Vcpu, write.Cr, write.Value)],
            new VmOutcome.CrWrite(true, write.Cr, write.Value), []);
    }

    /// <summary>The answer to a duplicate, from the recorded result.</summary>
    private static VmOutcome Recorded(VmState state, VmCommand command, RecordedAnswer answer) => command switch
    {
        // The register's durable value: a duplicate must not set the register again.
        VmCommand.WriteCr write when write.Vcpu >= 0 && write.Vcpu < state.VcpuCount && write.Cr >= 0
            && write.Cr < CrPinning.ControlRegisterCount => new VmOutcome.CrWrite(answer.Result != 0, write.Cr, state.ControlRegister(write.Vcpu, write.Cr)),
        _ => new VmOutcome.Returned(answer.Result, answer.HostIntegrityFaults),
    };

    private static Guid[] RememberDestroy(IReadOnlyList<Guid> recent, Guid requestId)
    {
        if (requestId == Guid.Empty)
            return [.. recent];
        var kept = recent.Count >= VmState.RecentDestroysKept ? recent.Skip(recent.Count - VmState.RecentDestroysKept + 1) : recent;
        return [.. kept, requestId];
    }
}
