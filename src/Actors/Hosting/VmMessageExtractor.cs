using Akka.Cluster.Sharding;
using HekiActors.Actors.Vm;
using HekiActors.Protocol;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// The one message extractor of the VM entity, for the local parent and for Cluster.Sharding alike: every
/// <see cref="IWithVmId"/> goes to entity <c>vm-&lt;VmId&gt;</c> (the VM's persistence id, never empty), in shard
/// MurmurHash(entity id) mod <see cref="MaxShards"/> (stable across processes and runs).
/// </summary>
public sealed class VmMessageExtractor(int maxShards = VmMessageExtractor.DefaultMaxShards) : HashCodeMessageExtractor(maxShards)
{
    /// <summary>About ten shards per node for a ten-node cluster.</summary>
    public const int DefaultMaxShards = 100;

    public int MaxShards => MaxNumberOfShards;

    public override string? EntityId(object message) => message switch
    {
        IWithVmId addressed => EntityIdOf(addressed.VmId),
        _ => null,
    };

    /// <summary>The entity of a VM id: its persistence id.</summary>
    public static string EntityIdOf(string vmId) => VmActor.PersistenceIdFor(vmId);

    /// <summary>The VM id of an entity id made by <see cref="EntityIdOf"/>.</summary>
    public static string VmIdOf(string entityId) =>
        entityId.StartsWith(VmActor.PersistenceIdPrefix, StringComparison.Ordinal)
            ? entityId[VmActor.PersistenceIdPrefix.Length..]
            : throw new ArgumentException($"'{entityId}' is not a VM entity id", nameof(entityId));
}
