using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Replay;

/// <summary>
/// The replay format's meaning in protocol messages: which message a request sends to its VM, and which result
/// field a reply becomes (replay-format.md's table). Used by <c>heki replay</c> and by tests that replay recordings.
/// </summary>
public static class ReplayMessages
{
    /// <summary>The message that performs <paramref name="request"/>; VMs follow <paramref name="profile"/>.</summary>
    /// <param name="requestId">The id of a mutating request (a duplicate with the same id is applied once); unused by reads.</param>
    public static IWithVmId ToMessage(ReplayRequest request, HekiProfile profile, Guid requestId) => request switch
    {
        CreateVmRequest r => new CreateVm(r.Vm, requestId, VmConfig.FromMegabytes(r.MemoryMb, r.Vcpus, r.Mbec, r.PrivateMemory, profile)),
        DestroyVmRequest r => new DestroyVm(r.Vm, requestId),
        ProtectRequest r => new GuestProtectMemory(r.Vm, r.Vcpu, requestId, r.ListPages, r.Cpl),
        SetPermissionsRequest r => new SetPermissions(r.Vm, requestId, r.Start, r.End, r.Attr),
        GetPermissionsRequest r => new GetPermissions(r.Vm, r.Gfn),
        SetMemoryAttributesRequest r => new SetMemoryAttributes(r.Vm, requestId, r.Address, r.Size, r.Attributes, r.Flags),
        GetMemoryAttributesRequest r => new GetMemoryAttributes(r.Vm, r.Gfn),
        AccessRequest r => new GuestAccess(r.Vm, r.Vcpu, r.Gpa, r.Kind, r.Cpl),
        // The format gives lock_cr no cpl: the guest kernel pins from CPL 0.
        LockCrRequest r => new GuestLockCr(r.Vm, r.Vcpu, requestId, r.Cr, r.Pin, r.Flags, 0),
        WriteCrRequest r => new GuestWriteCr(r.Vm, r.Vcpu, requestId, r.Cr, r.Value),
        ReadCrRequest r => new GuestReadCr(r.Vm, r.Vcpu, r.Cr),
        _ => throw new ArgumentOutOfRangeException(nameof(request), request, "unknown replay request"),
    };

    /// <summary>The result field a reply stands for; a refusal is an error that names the problem.</summary>
    public static ReplayResult ResultOf(object reply) => reply switch
    {
        CommandRejected rejected => new ErrorResult(rejected.Reason),
        VmCreated or VmDestroyed => OkResult.Instance,
        HypercallDone done => new RetResult(done.Ret, done.HostIntegrityFaults),
        HostReturn ret => new RetResult(ret.Ret),
        PermissionsValue permissions => new AttrResult(permissions.Attr),
        AttributesValue attributes => new AttributesResult(attributes.Word),
        GuestAccessDone access => OutcomeResult.Of(access.Result),
        CrWriteDone written => OutcomeResult.OfCrWrite(written.Written),
        CrValue value => new ValueResult(value.Value),
        _ => new ErrorResult($"unexpected reply {reply.GetType().Name}"),
    };
}
