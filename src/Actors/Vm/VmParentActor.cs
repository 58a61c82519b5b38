using Akka.Actor;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Actors.Vm;

/// <summary>
/// The VM entity's local host (the embedded default): one <see cref="VmActor"/> child per VM id, created on the
/// first message for it and kept (a destroyed VM's entity stays, holding the ids of its destroys). Routes with the
/// same <see cref="VmMessageExtractor"/> as Cluster.Sharding, so callers cannot tell the two apart. Answers
/// <see cref="ListVms"/> from what its children report, once every child it started has recovered.
/// </summary>
public sealed class VmParentActor : UntypedActor, IWithUnboundedStash
{
    private readonly IActorRef _warnings;
    private readonly VmActorSettings _settings;
    private readonly VmMessageExtractor _extractor = new();
    private readonly SortedSet<string> _existing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _recovering = new(StringComparer.Ordinal);
    // Each VM id's actor name, made with its first actor: a name is a function of the id, and building it for every routed
    // message was a string a message (hypercall bursts, boots). One entry per VM entity this parent started (it keeps them all).
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private int _stopping = -1;

    public VmParentActor(IActorRef warnings, VmActorSettings settings)
    {
        _warnings = warnings;
        _settings = settings;
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(IActorRef warnings, VmActorSettings settings) =>
        settings.OnControlDispatcher(Akka.Actor.Props.Create(() => new VmParentActor(warnings, settings)));

    protected override SupervisorStrategy SupervisorStrategy() =>
        // A VM actor that throws is restarted and recovers every acknowledged change from its journal.
        new OneForOneStrategy(Decider.From(Directive.Restart));

    protected override void OnReceive(object message)
    {
        if (_stopping >= 0)
        {
            // Shutting down: waiting for the VMs to finish what they started; nothing new is taken.
            if (message is Terminated && --_stopping == 0)
                Context.Stop(Self);
            else if (message is not Terminated)
                Unhandled(message);
            return;
        }

        switch (message)
        {
            case StopVmEntity:
                StopVms();
                break;
            case Terminated terminated:
                // A VM whose journal failed it (in recovery or in a write) is gone; its next message starts it again.
                // One that never finished recovering must not hold ListVms back.
                Recovered(VmMessageExtractor.VmIdOf(Uri.UnescapeDataString(terminated.ActorRef.Path.Name)));
                break;
            case VmExistence existence:
                if (existence.Exists)
                    _existing.Add(existence.VmId);
                else
                    _existing.Remove(existence.VmId);
                Recovered(existence.VmId);
                break;
            case RecoverVms recover:
                foreach (var vmId in recover.VmIds)
                    ChildFor(vmId);
                break;
            case ListVms when _recovering.Count > 0:
                Stash.Stash(); // answered once every VM started so far has recovered
                break;
            case ListVms:
                Sender.Tell(new VmList([.. _existing]));
                break;
            case IWithVmId { VmId.Length: 0 }:
                Sender.Tell(new CommandRejected(RejectionCode.InvalidRequest, "a VM id must not be empty"));
                break;
            case IWithVmId addressed:
                ChildFor(addressed.VmId).Forward(_extractor.EntityMessage(message));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// The node's owner shuts it down (<see cref="HekiHost.DisposeAsync"/>): every VM finishes the change it is making
    /// and the journal work it asked for (<see cref="StopVmEntity"/>, as on a shard hand-off), then this parent stops.
    /// </summary>
    private void StopVms()
    {
        var children = Context.GetChildren().ToList();
        if (children.Count == 0)
        {
            Context.Stop(Self);
            return;
        }

        _stopping = children.Count;
        foreach (var child in children)
        {
            Context.Watch(child);
            child.Tell(StopVmEntity.Instance);
        }
    }

    private void Recovered(string vmId)
    {
        if (_recovering.Remove(vmId) && _recovering.Count == 0)
            Stash.UnstashAll();
    }

    private IActorRef ChildFor(string vmId)
    {
        if (_names.TryGetValue(vmId, out var name))
        {
            var child = Context.Child(name);
            if (!child.IsNobody())
                return child;
        }
        else
        {
            // Entity ids are URL-escaped into actor names, as a shard does: any VM id is a valid name then.
            _names.Add(vmId, name = Uri.EscapeDataString(VmMessageExtractor.EntityIdOf(vmId)));
        }

        _recovering.Add(vmId);
        return Context.Watch(Context.ActorOf(VmActor.Props(vmId, _warnings, _settings, reportTo: Self), name));
    }
}
