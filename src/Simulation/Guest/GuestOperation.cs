using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Guest;

/// <summary>One thing the guest (kernel or attacker) does on one vCPU; the engine sends it as a vCPU command.</summary>
public abstract record GuestOperation(int Vcpu)
{
    /// <summary>The protocol message that performs it on VM <paramref name="vmId"/>.</summary>
    public abstract IVcpuCommand ToCommand(string vmId, Guid requestId);

    /// <summary>The same operation as a replay-format request (what a recording writes).</summary>
    public abstract ReplayRequest ToRequest(string vmId);

    /// <summary>Reads the vCPU's reply (a <see cref="GuestAccessDone"/>, <see cref="HypercallDone"/> or <see cref="CrWriteDone"/>).</summary>
    public abstract OperationResult ResultOf(object reply);

    private protected static InvalidOperationException Unexpected(object reply, string expected) =>
        new($"expected {expected}, got {reply.GetType().Name}: {reply}");
}

/// <summary>A single guest access (an attack probe).</summary>
public sealed record AccessOperation(int Vcpu, ulong Gpa, AccessKind Kind, byte Cpl) : GuestOperation(Vcpu)
{
    public override IVcpuCommand ToCommand(string vmId, Guid requestId) => new GuestAccess(vmId, Vcpu, Gpa, Kind, Cpl);

    public override ReplayRequest ToRequest(string vmId) => new AccessRequest(vmId, Vcpu, Gpa, Kind, Cpl);

    public override OperationResult ResultOf(object reply) => reply is GuestAccessDone done
        ? OperationResult.Access(done.Result)
        : throw Unexpected(reply, nameof(GuestAccessDone));
}

/// <summary>KVM_HC_PROTECT_MEMORY with its list pages.</summary>
public sealed record ProtectOperation(int Vcpu, MemoryRange[][] ListPages, byte Cpl) : GuestOperation(Vcpu)
{
    public override IVcpuCommand ToCommand(string vmId, Guid requestId) => new GuestProtectMemory(vmId, Vcpu, requestId, ListPages, Cpl);

    public override ReplayRequest ToRequest(string vmId) => new ProtectRequest(vmId, Vcpu, ListPages, Cpl);

    public override OperationResult ResultOf(object reply) => reply is HypercallDone done
        ? OperationResult.Return(done.Ret)
        : throw Unexpected(reply, nameof(HypercallDone));

    public int RangeCount => ListPages.Sum(page => page.Length);
}

/// <summary>KVM_HC_LOCK_CR_UPDATE(cr, pin, 0) from CPL 0.</summary>
public sealed record LockCrOperation(int Vcpu, ulong Cr, ulong Pin) : GuestOperation(Vcpu)
{
    public override IVcpuCommand ToCommand(string vmId, Guid requestId) => new GuestLockCr(vmId, Vcpu, requestId, Cr, Pin, 0, 0);

    public override ReplayRequest ToRequest(string vmId) => new LockCrRequest(vmId, Vcpu, Cr, Pin, 0);

    public override OperationResult ResultOf(object reply) => reply is HypercallDone done
        ? OperationResult.Return(done.Ret)
        : throw Unexpected(reply, nameof(HypercallDone));
}

/// <summary>A MOV to CR0 or CR4.</summary>
public sealed record WriteCrOperation(int Vcpu, int Cr, ulong Value) : GuestOperation(Vcpu)
{
    public override IVcpuCommand ToCommand(string vmId, Guid requestId) => new GuestWriteCr(vmId, Vcpu, requestId, Cr, Value);

    public override ReplayRequest ToRequest(string vmId) => new WriteCrRequest(vmId, Vcpu, Cr, Value);

    public override OperationResult ResultOf(object reply) => reply is CrWriteDone done
        ? OperationResult.CrWrite(done.Written)
        : throw Unexpected(reply, nameof(CrWriteDone));
}

/// <summary>What an operation did: an access result, a hypercall return value, or whether a CR write took effect.</summary>
public readonly record struct OperationResult(OperationResultKind Kind, long Value)
{
    public static OperationResult Access(AccessResult result) => new(OperationResultKind.Access, (long)result);

    public static OperationResult Return(long ret) => new(OperationResultKind.Return, ret);

    public static OperationResult CrWrite(bool written) => new(OperationResultKind.CrWrite, written ? 1 : 0);

    public AccessResult AccessResult => Kind == OperationResultKind.Access ? (AccessResult)Value
        : throw new InvalidOperationException($"a {Kind} result has no access result");

    /// <summary>The result as the replay format writes it (an access's or CR write's word, a hypercall's ret).</summary>
    public ReplayResult ToReplayResult() => Kind switch
    {
        OperationResultKind.Access => OutcomeResult.Of(AccessResult),
        OperationResultKind.Return => new RetResult(Value),
        _ => OutcomeResult.OfCrWrite(Value != 0),
    };

    /// <summary>The access completed, the hypercall returned 0, or the CR write took effect.</summary>
    public bool Completed => Kind switch
    {
        OperationResultKind.Access => Value == (long)AccessResult.Ok,
        OperationResultKind.Return => Value == 0,
        _ => Value != 0,
    };
}

/// <summary>Which kind of reply an <see cref="OperationResult"/> came from.</summary>
public enum OperationResultKind : byte
{
    Access,
    Return,
    CrWrite,
}
