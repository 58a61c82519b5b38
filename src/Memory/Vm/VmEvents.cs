using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Vm;

/// <summary>An event in a VM's journal. <see cref="VmCore.Evolve(VmState?, IVmEvent)"/> over them in order rebuilds the VM exactly.</summary>
public interface IVmEvent;

/// <summary>The VM was created with this configuration by request <paramref name="RequestId"/> (starts a fresh incarnation).</summary>
public sealed record VmConfiguredEvent(VmConfig Config, Guid RequestId) : IVmEvent;

/// <summary>
/// kvm_permissions_set calls that succeeded for one request, in order (a PROTECT_MEMORY list, or the host's
/// set_permissions), and the value returned for the request (heki-v2 can apply some ranges and then fail), with
/// the list pages heki-v2 read past their end (part of the answer, so a duplicate is answered the same; 0 in
/// journals written before it was recorded).
/// </summary>
public sealed record PermissionsChangedEvent(Guid RequestId, AppliedRange[] Changes, long Ret, int HostIntegrityFaults = 0) : IVmEvent;

/// <summary>A successful KVM_SET_MEMORY_ATTRIBUTES from the host.</summary>
public sealed record MemoryAttributesChangedEvent(Guid RequestId, ulong Address, ulong Size, ulong Attributes) : IVmEvent;

/// <summary>A successful LOCK_CR_UPDATE that pinned bits.</summary>
public sealed record CrPinnedEvent(Guid RequestId, ulong Cr, ulong Pin) : IVmEvent;

/// <summary>A permitted guest CR write.</summary>
public sealed record CrWrittenEvent(Guid RequestId, int Vcpu, int Cr, ulong Value) : IVmEvent;

/// <summary>
/// The VM was destroyed by request <paramref name="RequestId"/>: everything before this is void. It carries the ids
/// of the last destroys (this one last), so that once the journal before it is deleted, a resent destroy is still
/// answered and never destroys a later incarnation.
/// </summary>
public sealed record VmDestroyedEvent(Guid RequestId, Guid[] RecentDestroys) : IVmEvent;

/// <summary>A request already answered, kept so a duplicate gets the same answer without being applied again.</summary>
public readonly record struct AnsweredRequest(Guid RequestId, long Result, int HostIntegrityFaults = 0);

/// <summary>
/// A VM's whole state at one sequence number, so recovery need not replay the journal from the start. A VM that
/// does not exist (destroyed) has no <paramref name="Config"/> and only its <paramref name="RecentDestroys"/>.
/// </summary>
public sealed record VmSnapshot(
    VmConfig? Config,
    AttributeRun[] Runs,
    ulong Cr0Pins,
    ulong Cr4Pins,
    ulong[][] ControlRegisters,
    AnsweredRequest[] Answered,
    Guid CreatedBy,
    Guid[] RecentDestroys);
