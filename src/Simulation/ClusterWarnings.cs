using Akka.Actor;
using Akka.Cluster;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Simulation;

/// <summary>
/// The kernel-warning counts of a run against a cluster (<c>heki simulate --cluster</c>). A VM reports its warnings to
/// the warning supervisor of the node that hosts it (that host's kernel log, rate limited there), so the run's counts
/// are what the VM nodes' supervisors counted while it ran: at <see cref="TakeBaseline"/> and again at
/// <see cref="GetWarningStats"/> every Up VM node's supervisor is asked, and the client's own (which decides what the
/// guests, running here, report themselves), and the answer is the sum of the end counts less the start counts. A node that joined meanwhile counts from zero; a node restarted meanwhile (its
/// counts fell) counts from zero again; a node lost meanwhile, or one that does not answer within
/// <see cref="AskTimeout"/>, is missing from the sum. Runs of other clients on the same nodes at the same time are in it.
/// Every other message goes to the client's own supervisor.
/// </summary>
public sealed class ClusterWarnings : UntypedActor, IWithTimers, IWithUnboundedStash
{
    /// <summary>How long a round waits for the nodes' answers before it sums those it has.</summary>
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private readonly IActorRef _local;
    private readonly Dictionary<Address, WarningStats> _baseline = new();
    private readonly Dictionary<Address, WarningStats> _round = new();
    private readonly HashSet<Address> _awaited = [];
    private IActorRef? _replyTo;
    private bool _baselining;

    public ClusterWarnings(IActorRef local) => _local = local;

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <param name="local">The client's own warning supervisor, for every message other than the counts.</param>
    public static Props Props(IActorRef local) => Akka.Actor.Props.Create(() => new ClusterWarnings(local));

    /// <summary>Asks every VM node for its counts now; replies <see cref="BaselineTaken"/> when all answered (or the timeout ended the round).</summary>
    public sealed record TakeBaseline : INoSerializationVerificationNeeded
    {
        public static readonly TakeBaseline Instance = new();
    }

    /// <summary>The answer to <see cref="TakeBaseline"/>: how many VM nodes answered.</summary>
    public sealed record BaselineTaken(int Nodes) : INoSerializationVerificationNeeded;

    private sealed record RoundOver : INoSerializationVerificationNeeded
    {
        public static readonly RoundOver Instance = new();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case TakeBaseline or GetWarningStats when _replyTo is not null:
                Stash.Stash();
                break;
            case TakeBaseline:
                StartRound(Sender, baselining: true);
                break;
            case GetWarningStats:
                StartRound(Sender, baselining: false);
                break;
            case WarningStats stats when _replyTo is not null && _awaited.Remove(Sender.Path.Address):
                _round[Sender.Path.Address] = stats;
                if (_awaited.Count == 0)
                    EndRound();
                break;
            case WarningStats:
                // A node's late answer to a round that is over: that round went without it.
                break;
            case RoundOver when _replyTo is not null:
                EndRound();
                break;
            case RoundOver:
                break;
            default:
                _local.Forward(message);
                break;
        }
    }

    private void StartRound(IActorRef replyTo, bool baselining)
    {
        _replyTo = replyTo;
        _baselining = baselining;
        _round.Clear();
        _awaited.Clear();
        foreach (var node in Cluster.Get(Context.System).State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(HekiHost.VmTypeName)))
        {
            _awaited.Add(node.Address);
            Context.ActorSelection(new RootActorPath(node.Address) / "user" / HekiHost.WarningsName).Tell(GetWarningStats.Instance, Self);
        }

        // The guests run here, and what they report themselves is decided by the client's own supervisor.
        _awaited.Add(_local.Path.Address);
        _local.Tell(GetWarningStats.Instance, Self);
        Timers.StartSingleTimer(nameof(RoundOver), RoundOver.Instance, AskTimeout);
    }

    private void EndRound()
    {
        Timers.Cancel(nameof(RoundOver));
        var replyTo = _replyTo!;
        _replyTo = null;
        if (_baselining)
        {
            foreach (var (node, stats) in _round)
                _baseline[node] = stats;
            replyTo.Tell(new BaselineTaken(_round.Count));
        }
        else
        {
            replyTo.Tell(Sum());
        }

        Stash.UnstashAll();
    }

    /// <summary>Each answering node's counts less its baseline, summed per call site.</summary>
    private WarningStats Sum()
    {
        var emitted = new long[WarningSites.Count];
        var suppressed = new long[WarningSites.Count];
        long notices = 0;
        foreach (var (node, end) in _round)
        {
            var start = _baseline.GetValueOrDefault(node);
            // Counts only grow on one incarnation of a node: a fall means it restarted, and counts from zero again.
            if (start is not null && (end.SuppressionNotices < start.SuppressionNotices
                    || Enumerable.Range(0, WarningSites.Count).Any(i => end.Emitted[i] < start.Emitted[i] || end.Suppressed[i] < start.Suppressed[i])))
                start = null;
            for (var i = 0; i < WarningSites.Count; i++)
            {
                emitted[i] += end.Emitted[i] - (start?.Emitted[i] ?? 0);
                suppressed[i] += end.Suppressed[i] - (start?.Suppressed[i] ?? 0);
            }

            notices += end.SuppressionNotices - (start?.SuppressionNotices ?? 0);
        }

        return new WarningStats(emitted, suppressed, notices);
    }
}
