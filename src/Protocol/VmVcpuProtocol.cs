using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Protocol;

// Messages between a VM actor and its vCPU actors. The VM is the single writer of the store; vCPUs hold only
// translations and CR pins it handed out, and acknowledge every shootdown before the VM acknowledges a change.
// A TraceParent is W3C traceparent text (docs/observability.md): the span the message continues, or null when
// telemetry is off or the trace was not sampled. It is last and optional so callers that do not trace ignore it.

/// <summary>A vCPU (re)started and asks for its state. Replies <see cref="VcpuState"/>.</summary>
public sealed record VcpuAttach(int Vcpu) : IVmVcpuMessage;

/// <summary>What a vCPU needs to run: its CR values (CR0..CR15) and the VM's current translation generation.</summary>
public sealed record VcpuState(ulong[] ControlRegisters, long Generation) : IVmVcpuMessage;

/// <summary>A translation miss (the slow path). Replies <see cref="TranslationFill"/>.</summary>
public sealed record TranslateRequest(int Vcpu, ulong Gfn) : IVmVcpuMessage;

/// <summary>
/// The run [Start, End) around the asked gfn and its permissions (kvm_permissions_get); <paramref name="TraceParent"/>
/// is the latest store change over the run, which a later violation on this translation continues.
/// <paramref name="ServicePicoseconds"/> is the VM's own time on the request (the rest of the vCPU's wait is queueing).
/// </summary>
public sealed record TranslationFill(ulong Gfn, ulong Start, ulong End, byte Permissions, long Generation, string? TraceParent = null,
    long ServicePicoseconds = 0) : IVmVcpuMessage;

/// <summary>Drop translations of <paramref name="Range"/> (all when null). Replies <see cref="VcpuSynced"/>.</summary>
public sealed record Shootdown(long Generation, GfnRange? Range, string? TraceParent = null) : IVmVcpuMessage;

/// <summary>A vCPU has applied everything up to <paramref name="Generation"/>.</summary>
public sealed record VcpuSynced(int Vcpu, long Generation) : IVmVcpuMessage;

/// <summary>
/// The VM's answer to a hypercall a vCPU forwarded (<see cref="ProtectMemoryCall"/>, <see cref="LockCrCall"/>): the guest's
/// answer, and the VM's time on the call from taking it up to this answer (its journal write and shootdowns included), so the
/// vCPU can tell the model's time from the waits for a turn (issue 11).
/// </summary>
public sealed record HypercallServed(HypercallDone Done, long ServicePicoseconds) : IVmVcpuMessage;

/// <summary>A vCPU forwards a PROTECT_MEMORY hypercall (CPL already checked). Replies <see cref="HypercallServed"/>.</summary>
public sealed record ProtectMemoryCall(Guid RequestId, int Vcpu, MemoryRange[][] ListPages, string? TraceParent = null) : IVmVcpuMessage;

/// <summary>A vCPU forwards a LOCK_CR_UPDATE hypercall (CPL already checked). Replies <see cref="HypercallServed"/>.</summary>
public sealed record LockCrCall(Guid RequestId, int Vcpu, ulong Cr, ulong Pin, ulong Flags, string? TraceParent = null) : IVmVcpuMessage;

/// <summary>
/// A guest CR write. The VM holds the pins and decides (so a write racing a LOCK_CR_UPDATE cannot slip past
/// it), and makes a permitted write durable so a vCPU restart keeps it. Replies <see cref="CrWriteResult"/>.
/// </summary>
public sealed record CrWriteCall(Guid RequestId, int Vcpu, int Cr, ulong Value, string? TraceParent = null) : IVmVcpuMessage;

/// <summary>
/// The VM's answer to a <see cref="CrWriteCall"/>: whether the write took effect, and the register's durable value
/// afterwards, which the vCPU adopts (a duplicate write is answered from the record and must not set the register).
/// </summary>
public sealed record CrWriteResult(bool Written, int Cr, ulong Value) : IVmVcpuMessage;
