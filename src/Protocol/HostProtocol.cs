using System.Collections.Immutable;
using HekiActors.Memory;

namespace HekiActors.Protocol;

// The host VMM's requests, routed by VmId to one VM entity (local parent or shard region). Mutating requests carry a
// RequestId: a duplicate (a retry after a lost reply) is answered from the VM's record and applied once.

/// <summary>Creates a VM. Replies <see cref="VmCreated"/> or <see cref="CommandRejected"/>.</summary>
public sealed record CreateVm(string VmId, Guid RequestId, VmConfig Config) : IWithVmId;

/// <summary>The VM exists and its vCPUs are starting.</summary>
public sealed record VmCreated(string VmId) : IReply;

/// <summary>Destroys a VM and its state; the id may then be created again, fresh. Replies <see cref="VmDestroyed"/>.</summary>
public sealed record DestroyVm(string VmId, Guid RequestId) : IWithVmId;

/// <summary>The VM and its journal are gone.</summary>
public sealed record VmDestroyed(string VmId) : IReply;

/// <summary>kvm_permissions_set called directly on the VM (§3). Replies <see cref="HostReturn"/>.</summary>
public sealed record SetPermissions(string VmId, Guid RequestId, ulong Start, ulong End, ulong Attr) : IWithVmId;

/// <summary>kvm_permissions_get (§3). Replies <see cref="PermissionsValue"/>.</summary>
public sealed record GetPermissions(string VmId, ulong Gfn) : IWithVmId;

/// <summary>Heki bits of a gfn.</summary>
public sealed record PermissionsValue(ulong Attr) : IReply;

/// <summary>The VMM's KVM_SET_MEMORY_ATTRIBUTES (§4). Replies <see cref="HostReturn"/>.</summary>
public sealed record SetMemoryAttributes(string VmId, Guid RequestId, ulong Address, ulong Size, ulong Attributes, ulong Flags)
    : IWithVmId;

/// <summary>kvm_get_memory_attributes. Replies <see cref="AttributesValue"/>.</summary>
public sealed record GetMemoryAttributes(string VmId, ulong Gfn) : IWithVmId;

/// <summary>The raw KVM attribute word of a gfn.</summary>
public sealed record AttributesValue(ulong Word) : IReply;

/// <summary>A kernel return code: 0 or a negative errno.</summary>
public sealed record HostReturn(int Ret) : IReply;

/// <summary>Chaos and test hook: the VM actor throws while handling it, to exercise supervision.</summary>
public sealed record CrashVm(string VmId, string Reason) : IWithVmId;

/// <summary>Asks a VM for a summary of its state. Replies <see cref="VmStatus"/>.</summary>
public sealed record GetVmStatus(string VmId) : IWithVmId;

/// <summary>A VM's configuration and state summary.</summary>
public sealed record VmStatus(string VmId, VmConfig Config, int Runs, int Boundaries, ulong Cr0Pins, ulong Cr4Pins, long Generation, long LastSequenceNr) : IReply;

/// <summary>Asks the local VM parent which VMs exist. Replies <see cref="VmList"/>.</summary>
public sealed record ListVms : IHekiMessage
{
    public static readonly ListVms Instance = new();
}

/// <summary>The ids of the live VMs, sorted.</summary>
public sealed record VmList(string[] VmIds) : IReply;

/// <summary>
/// A VM tells its local parent whether it exists, after recovery and after each create and destroy (local hosting
/// only: under Cluster.Sharding nobody lists VMs).
/// </summary>
public sealed record VmExistence(string VmId, bool Exists) : IHekiMessage;

/// <summary>
/// Stops a VM entity gracefully: it finishes the change it is writing or shooting down (so that change is answered)
/// and the snapshot saves and journal deletions it asked for, then stops. Cluster.Sharding sends it on a hand-off (a
/// rebalance, or the node leaving); the entity's next message starts it again, on whichever node then owns its shard,
/// recovered from the journal. The local parent gets it when its node shuts down and passes it to each VM.
/// Not addressed by VM id.
/// </summary>
public sealed record StopVmEntity : IHekiMessage
{
    public static readonly StopVmEntity Instance = new();
}

/// <summary>The host asks the local parent to start (recover) the VMs a durable journal holds, before any request.</summary>
public sealed record RecoverVms(ImmutableArray<string> VmIds) : IHekiMessage;

/// <summary>
/// Published on the actor system's event stream when a persistent actor's journal fails it (recovery, a write, or a
/// rejected write): that actor stops, so whoever waits for its answers should stop waiting. Not a reply to anything.
/// </summary>
/// <param name="PersistenceId">Whose journal failed: a VM's ("vm-ID").</param>
/// <param name="Reason">The journal's error, one line.</param>
public sealed record JournalFailed(string PersistenceId, string Reason) : IHekiMessage;
