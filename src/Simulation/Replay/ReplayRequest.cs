using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Simulation.Replay;

// One typed request per replay op (replay-format.md's table). Parsing has already checked every field's
// type and range; the model itself decides everything else (unknown VM or vCPU, kernel error codes).

/// <summary>A well-formed replay line: one request to the model.</summary>
public abstract record ReplayRequest(string Vm);

/// <summary><c>create_vm</c>: a VM with <paramref name="MemoryMb"/> MiB of guest memory.</summary>
public sealed record CreateVmRequest(string Vm, ulong MemoryMb, int Vcpus, bool Mbec, bool PrivateMemory) : ReplayRequest(Vm);

/// <summary><c>destroy_vm</c>: the VM and its state go; the id may be created again.</summary>
public sealed record DestroyVmRequest(string Vm) : ReplayRequest(Vm);

/// <summary><c>protect</c>: KVM_HC_PROTECT_MEMORY from one vCPU with its list pages.</summary>
public sealed record ProtectRequest(string Vm, int Vcpu, MemoryRange[][] ListPages, byte Cpl) : ReplayRequest(Vm);

/// <summary><c>set_permissions</c>: kvm_permissions_set over gfns [Start, End).</summary>
public sealed record SetPermissionsRequest(string Vm, ulong Start, ulong End, ulong Attr) : ReplayRequest(Vm);

/// <summary><c>get_permissions</c>: kvm_permissions_get of one gfn.</summary>
public sealed record GetPermissionsRequest(string Vm, ulong Gfn) : ReplayRequest(Vm);

/// <summary><c>set_memory_attributes</c>: the host VMM's KVM_SET_MEMORY_ATTRIBUTES.</summary>
public sealed record SetMemoryAttributesRequest(string Vm, ulong Address, ulong Size, ulong Attributes, ulong Flags)
    : ReplayRequest(Vm);

/// <summary><c>get_memory_attributes</c>: the raw KVM attribute word of one gfn.</summary>
public sealed record GetMemoryAttributesRequest(string Vm, ulong Gfn) : ReplayRequest(Vm);

/// <summary><c>access</c>: one guest read, write or fetch.</summary>
public sealed record AccessRequest(string Vm, int Vcpu, ulong Gpa, AccessKind Kind, byte Cpl) : ReplayRequest(Vm);

/// <summary><c>lock_cr</c>: KVM_HC_LOCK_CR_UPDATE from one vCPU (at CPL 0: the table gives it no cpl).</summary>
public sealed record LockCrRequest(string Vm, int Vcpu, ulong Cr, ulong Pin, ulong Flags) : ReplayRequest(Vm);

/// <summary><c>write_cr</c>: a guest MOV to a control register.</summary>
public sealed record WriteCrRequest(string Vm, int Vcpu, int Cr, ulong Value) : ReplayRequest(Vm);

/// <summary><c>read_cr</c>: a guest read of a control register.</summary>
public sealed record ReadCrRequest(string Vm, int Vcpu, int Cr) : ReplayRequest(Vm);
