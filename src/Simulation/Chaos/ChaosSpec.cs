using HekiActors.Actors;
using HekiActors.Memory;

namespace HekiActors.Simulation.Chaos;

/// <summary>One chaos run, validated (the CLI builds it from its options).</summary>
/// <param name="Vms">VMs driven at once (≥ 1), each by its own sequence of operations.</param>
/// <param name="VcpusPerVm">vCPUs per VM (≥ 1).</param>
/// <param name="MemoryMbPerVm">Guest memory per VM in MiB (≥ 1).</param>
/// <param name="Duration">Stop after this long (wall clock); null when <paramref name="OperationsPerVm"/> bounds the run.</param>
/// <param name="OperationsPerVm">Stop after this many operations per VM; null when <paramref name="Duration"/> bounds the run.</param>
/// <param name="Seed">Decides the operations and, with each operation's identity, the faults.</param>
/// <param name="Faults">Which faults, at which rates per operation.</param>
/// <param name="ReplyTimeout">How long a sender waits for a reply before it resends the request (same id).</param>
public sealed record ChaosSpec(
    HekiProfile Profile,
    int Vms,
    int VcpusPerVm,
    ulong MemoryMbPerVm,
    TimeSpan? Duration,
    long? OperationsPerVm,
    ulong Seed,
    FaultPlan Faults,
    TimeSpan? ReplyTimeout = null)
{
    /// <summary>Resends of one read before it counts as unanswered (in one process); a change gets <see cref="ChangeResends"/>.</summary>
    public const int MaxResends = 8;

    /// <summary>
    /// Resends of one request before it counts as unanswered against a cluster: with <see cref="ClusterReplyTimeout"/>,
    /// two minutes, longer than a node's loss takes to be noticed, decided and its VMs started on a survivor.
    /// </summary>
    public const int MaxClusterResends = 120;

    /// <summary>How long a sender waits for a reply from a cluster before it resends (a round trip is milliseconds).</summary>
    public static readonly TimeSpan ClusterReplyTimeout = TimeSpan.FromSeconds(1);

    public TimeSpan Timeout => ReplyTimeout ?? (Cluster is null ? TimeSpan.FromMilliseconds(250) : ClusterReplyTimeout);

    /// <summary>Resends of one read before it counts as unanswered.</summary>
    public int Resends => Cluster is null ? MaxResends : MaxClusterResends;

    /// <summary>
    /// How long a change (a mutating request) is resent before it counts as unanswered: its answer decides what the oracle
    /// expects, and one sent may be applied whenever the VM gets to it (<see cref="Resending"/>).
    /// </summary>
    public static readonly TimeSpan ChangeAnswerWindow = TimeSpan.FromMinutes(2);

    /// <summary>Resends of one change before it counts as unanswered: <see cref="ChangeAnswerWindow"/> of <see cref="Timeout"/>s.</summary>
    public int ChangeResends => Math.Max(Resends, (int)Math.Min(int.MaxValue, ChangeAnswerWindow / Timeout));

    /// <summary>Drive the VMs of a running cluster instead of VMs in this process (<c>--cluster</c>, <c>--cluster-nodes</c>).</summary>
    public ChaosCluster? Cluster { get; init; }

    /// <summary>
    /// Journal the VMs to this SQLite file instead of the in-memory chaos journal (no journal faults then): what a
    /// process killed with SIGKILL leaves behind for the next one.
    /// </summary>
    public string? SqlitePath { get; init; }

    /// <summary>
    /// Write every acknowledged operation to this file (<see cref="Chaos.AcknowledgementLog"/>); when it already holds
    /// an earlier process's run, continue that run: the oracle is rebuilt from it and every VM resumes after its last
    /// acknowledged operation, and is probed there.
    /// </summary>
    public string? AcknowledgementLog { get; init; }

    /// <summary>A bug planted on purpose by the tests that prove the oracle can fail; never set outside them.</summary>
    internal PlantedBug Planted { get; init; }
}

/// <summary>
/// A chaos run against a cluster: the run's actor system joins it as a client (it hosts no VMs) and reaches every VM
/// through a shard region proxy.
/// </summary>
/// <param name="Seeds">Seed node addresses the client joins through (<c>akka.tcp://heki@HOST:PORT</c>).</param>
/// <param name="Nodes">The node processes the run may fault (<c>--cluster-nodes</c>); null for a cluster it only drives.</param>
/// <param name="NodeFaults">Which node faults, when (needs <paramref name="Nodes"/>); null: none.</param>
/// <param name="NodesConfig">The nodes' settings (<c>heki node --config</c>): the client runs with their split-brain resolver and
/// failure detector (<see cref="ClusterClient.SharedSettings"/>); null: the nodes run with the defaults.</param>
/// <param name="Narrate">Told one line for each node fault and recovery, as it happens (progress on standard error).</param>
public sealed record ChaosCluster(
    IReadOnlyList<string> Seeds, IClusterNodes? Nodes = null, NodeFaultPlan? NodeFaults = null, Akka.Configuration.Config? NodesConfig = null, Action<string>? Narrate = null);
