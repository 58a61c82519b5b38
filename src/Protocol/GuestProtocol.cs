using System.Collections.Immutable;
using Akka.Actor;
using System.Diagnostics;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Protocol;

/// <summary>Addresses one VM; the VM's parent (or a shard region) routes by it.</summary>
public interface IWithVmId : IHekiMessage
{
    string VmId { get; }
}

/// <summary>A guest operation executed by one vCPU of one VM.</summary>
public interface IVcpuCommand : IWithVmId
{
    int Vcpu { get; }
}

/// <summary>One guest access (read / write / fetch at a gpa with a CPL). Replies <see cref="GuestAccessDone"/>.</summary>
public sealed record GuestAccess(string VmId, int Vcpu, ulong Gpa, AccessKind Kind, byte Cpl) : IVcpuCommand;

/// <summary>The result of a <see cref="GuestAccess"/>.</summary>
public sealed record GuestAccessDone(AccessResult Result) : IReply;

/// <summary>
/// Many accesses in one message (the hot path: no message per access). Arrays are owned by the message and
/// never changed after sending. <paramref name="Cpls"/> may be null (all CPL 0). Replies <see cref="GuestAccessBatchDone"/>.
/// </summary>
public sealed record GuestAccessBatch(string VmId, int Vcpu, ulong[] Gpas, AccessKind[] Kinds, byte[]? Cpls, bool ReportEach)
    : IVcpuCommand;

/// <summary>Counts for a batch, and each access's result when asked for.</summary>
/// <param name="Generation">The vCPU's translation generation when the batch finished.</param>
public sealed record GuestAccessBatchDone(int Permitted, int Faulted, int Mmio, AccessResult[]? Results, long Generation) : IReply;

/// <summary>
/// KVM_HC_PROTECT_MEMORY (nr 14) with its list pages. Replies <see cref="HypercallDone"/>. <paramref name="TraceParent"/>
/// (W3C traceparent text, optional) makes the hypercall's span a child of the caller's.
/// </summary>
public sealed record GuestProtectMemory(string VmId, int Vcpu, Guid RequestId, MemoryRange[][] ListPages, byte Cpl, string? TraceParent = null)
    : IVcpuCommand;

/// <summary>KVM_HC_LOCK_CR_UPDATE (nr 13). Replies <see cref="HypercallDone"/>. <paramref name="TraceParent"/> as for PROTECT_MEMORY.</summary>
public sealed record GuestLockCr(string VmId, int Vcpu, Guid RequestId, ulong Cr, ulong Pin, ulong Flags, byte Cpl, string? TraceParent = null)
    : IVcpuCommand;

/// <summary>A raw hypercall by number (for numbers the model does not implement, and CPL checks). Replies <see cref="HypercallDone"/>.</summary>
public sealed record GuestHypercall(string VmId, int Vcpu, Guid RequestId, ulong Nr, ulong A0, ulong A1, ulong A2, byte Cpl)
    : IVcpuCommand;

/// <summary>A hypercall's return value as the guest's RAX sees it (negative errno, 0, or e.g. the ABI version).</summary>
/// <param name="HostIntegrityFaults">
/// heki-v2 only: list pages that claimed more than 169 ranges, which the RFC reads past its buffer (§5); the
/// guest cannot see this, the host operator should.
/// </param>
public sealed record HypercallDone(long Ret, int HostIntegrityFaults = 0) : IReply;

/// <summary>A guest MOV to CR<paramref name="Cr"/>. Replies <see cref="CrWriteDone"/>.</summary>
public sealed record GuestWriteCr(string VmId, int Vcpu, Guid RequestId, int Cr, ulong Value, string? TraceParent = null) : IVcpuCommand;

/// <summary>Whether the write took effect; false means #GP(0) was injected.</summary>
public sealed record CrWriteDone(bool Written) : IReply;

/// <summary>A guest read of CR<paramref name="Cr"/>. Replies <see cref="CrValue"/>.</summary>
public sealed record GuestReadCr(string VmId, int Vcpu, int Cr) : IVcpuCommand;

/// <summary>A control register's value.</summary>
public sealed record CrValue(ulong Value) : IReply;

/// <summary>
/// Any request the model refuses as bad input (unknown VM or vCPU, bad arguments): nothing changed. Branch on
/// <paramref name="Code"/>; <paramref name="Reason"/> names the problem for people.
/// </summary>
public sealed record CommandRejected(RejectionCode Code, string Reason) : IReply;

/// <summary>Chaos and test hook: the vCPU actor throws while handling it, to exercise supervision.</summary>
public sealed record CrashVcpu(string VmId, int Vcpu, string Reason) : IVcpuCommand;

/// <summary>
/// Runs <paramref name="Accesses"/> generated guest accesses (one workload round) on a vCPU, in chunks of
/// chunks (4,096 accesses in the vCPU) so shootdowns are never delayed by more than one chunk. The generator
/// is seeded with <paramref name="Seed"/>: the same seed and workload give the same counts. Stops early at the
/// first chunk boundary at or after <paramref name="Deadline"/> by the actor system's scheduler clock (null: none) or after a <see cref="StopWorkload"/>.
/// Every few chunks, and at the end, the accesses done are told to <paramref name="ProgressTo"/> as
/// <see cref="WorkloadProgress"/> (for progress displays; the final counts travel in the reply). Replies
/// <see cref="WorkloadDone"/>.
/// </summary>
public sealed record RunWorkload(string VmId, int Vcpu, ulong Seed, long Round, long Accesses, DateTimeOffset? Deadline,
    WorkloadSpec Workload, IActorRef? ProgressTo) : IVcpuCommand;

/// <summary>Ends a running workload at its next chunk boundary; it replies <see cref="WorkloadDone"/> as usual.</summary>
public sealed record StopWorkload(string VmId, int Vcpu) : IVcpuCommand;

/// <summary>Accesses (and faults among them) a workload ran since its last progress report.</summary>
public sealed record WorkloadProgress(long Accesses, long Faulted) : IReply;

/// <summary>
/// A workload round's counts (its latencies are in the vCPU's <see cref="VcpuCounts"/>, with every other access's).
/// </summary>
public sealed record WorkloadDone(string VmId, int Vcpu, long Round, long Permitted, long Faulted, long Mmio, long Misses) : IReply
{
    public long Accesses => Permitted + Faulted + Mmio;
}

/// <summary>
/// Asks a vCPU for everything it counted and timed since it started (issue 9's vocabulary, docs/observability.md):
/// the same increments it adds to the metrics. Replies <see cref="VcpuCounts"/>.
/// </summary>
public sealed record GetVcpuCounts(string VmId, int Vcpu) : IVcpuCommand;

/// <summary>
/// A vCPU's counts since it started. <paramref name="Accesses"/> is indexed origin × 3 + outcome (origin 0 workload,
/// 1 attack; outcome 0 permitted, 1 #PF, 2 MMIO). Latencies are per access (fast path, weighted by the accesses each
/// timed group covered), per translation miss (slow path) and per hypercall (arrival at the vCPU to reply), in
/// picoseconds. <paramref name="LatencyParts"/> splits the slow path and the hypercall into service and queueing, in the order
/// of the vocabulary's latency parts (slow path service, slow path queueing, hypercall service, hypercall queueing).
/// </summary>
public sealed record VcpuCounts(string VmId, int Vcpu, long[] Accesses, long TranslationFills, long TranslationInvalidations,
    long[] HypercallsByResult, long HypercallsRefusedCpl, LatencySnapshot FastPath, LatencySnapshot SlowPath,
    LatencySnapshot Hypercall, ImmutableArray<LatencySnapshot> LatencyParts) : IReply;
