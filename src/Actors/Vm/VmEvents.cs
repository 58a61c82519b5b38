using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Actors.Vm;

/// <summary>An event in a VM's journal. Replaying them in order rebuilds the VM exactly.</summary>
public interface IVmEvent;

/// <summary>The VM was created with this configuration by request <paramref name="RequestId"/> (starts a fresh incarnation).</summary>
public sealed record VmConfiguredEvent(VmConfig Config, Guid RequestId = default) : IVmEvent;

/// <summary>
/// kvm_permissions_set calls that succeeded for one request, in order (a PROTECT_MEMORY list, or the host's
/// set_permissions), and the value returned for the request (heki-v2 can apply some ranges and then fail).
/// </summary>
public sealed record PermissionsChangedEvent(Guid RequestId, AppliedRange[] Changes, long Ret) : IVmEvent;

/// <summary>A successful KVM_SET_MEMORY_ATTRIBUTES from the host.</summary>
public sealed record MemoryAttributesChangedEvent(Guid RequestId, ulong Address, ulong Size, ulong Attributes) : IVmEvent;

/// <summary>A successful LOCK_CR_UPDATE that pinned bits.</summary>
public sealed record CrPinnedEvent(Guid RequestId, ulong Cr, ulong Pin) : IVmEvent;

/// <summary>A permitted guest CR write.</summary>
public sealed record CrWrittenEvent(Guid RequestId, int Vcpu, int Cr, ulong Value) : IVmEvent;

/// <summary>The VM was destroyed: everything before this is void.</summary>
public sealed record VmDestroyedEvent : IVmEvent;

/// <summary>A request already answered, kept so a duplicate gets the same answer without being applied again.</summary>
public readonly record struct AnsweredRequest(Guid RequestId, long Result);

/// <summary>A VM's whole state at one sequence number, so recovery need not replay the journal from the start.</summary>
public sealed record VmSnapshot(
    VmConfig Config,
    AttributeRun[] Runs,
    ulong Cr0Pins,
    ulong Cr4Pins,
    ulong[][] ControlRegisters,
    AnsweredRequest[] Answered,
    Guid CreatedBy = default);
