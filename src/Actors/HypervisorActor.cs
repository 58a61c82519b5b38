using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using HekiActors.Actors.Hosting;
using HekiActors.Protocol;
using HekiActors.Actors.Vm;
using HekiActors.Memory;

namespace HekiActors.Actors;

/// <summary>
/// The host: creates and destroys VMs and routes every request addressed to a VM (by <see cref="IWithVmId"/>)
/// to that VM's actor. Remembers which VMs exist (event-sourced), so after a process restart it starts them
/// again and each recovers from its own journal. Restarts a VM actor that throws.
/// </summary>
public sealed class HypervisorActor : JournaledActor
{
    /// <summary>The hypervisor's journal key.</summary>
    public const string JournalId = "hypervisor";

    private readonly IActorRef _warnings;
    private readonly VmActorSettings _vmSettings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _registered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _idsByActor = new();
    private readonly Dictionary<string, PendingDestroy> _destroying = new(StringComparer.Ordinal);
    private readonly RecentDestroys _recentDestroys = new();
    private long _incarnation;

    public HypervisorActor(IActorRef warnings, VmActorSettings vmSettings)
    {
        _warnings = warnings;
        _vmSettings = vmSettings;
    }

    public override string PersistenceId => JournalId;

    public static Props Props(IActorRef warnings, VmActorSettings? vmSettings = null) =>
        Akka.Actor.Props.Create(() => new HypervisorActor(warnings, vmSettings ?? VmActorSettings.Default));

    protected override SupervisorStrategy SupervisorStrategy() =>
        // A VM actor that throws is restarted and recovers every acknowledged change from its journal.
        new OneForOneStrategy(Decider.From(Directive.Restart));

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case VmRegisteredEvent registered:
                _registered.Add(registered.VmId);
                break;
            case VmUnregisteredEvent unregistered:
                _registered.Remove(unregistered.VmId);
                _recentDestroys.Remember(unregistered.RequestId, unregistered.VmId);
                break;
            case RecoveryCompleted:
                foreach (var vmId in _registered)
                    StartVm(vmId);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case CreateVm create:
                HandleCreate(create);
                break;
            case DestroyVm destroy:
                HandleDestroy(destroy);
                break;
            case IWithVmId routed:
                Route(routed);
                break;
            case Terminated terminated:
                HandleTerminated(terminated.ActorRef);
                break;
            case ListVms:
                Sender.Tell(new VmList(_vms.Keys.OrderBy(id => id, StringComparer.Ordinal).ToArray()));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandleCreate(CreateVm create)
    {
        if (string.IsNullOrEmpty(create.VmId))
        {
            Sender.Tell(new CommandRejected(RejectionCode.InvalidRequest, "a VM id must not be empty"));
            return;
        }

        if (_destroying.ContainsKey(create.VmId))
        {
            Sender.Tell(new CommandRejected(RejectionCode.VmBusy, Rejections.VmBusy(create.VmId)));
            return;
        }

        if (_vms.TryGetValue(create.VmId, out var existing))
        {
            // The VM answers: a duplicate of its own create is already applied, anything else is rejected.
            existing.Forward(create);
            return;
        }

        var replyTo = Sender;
        Persist(new VmRegisteredEvent(create.VmId), ev =>
        {
            _registered.Add(ev.VmId);
            StartVm(ev.VmId).Tell(create, replyTo);
        });
    }

    private void HandleDestroy(DestroyVm destroy)
    {
        if (_recentDestroys.Contains(destroy.RequestId, destroy.VmId))
        {
            // A resent destroy was applied once already; it must not destroy a later incarnation.
            Sender.Tell(new VmDestroyed(destroy.VmId));
            return;
        }

        if (!_vms.TryGetValue(destroy.VmId, out var vm) || _destroying.ContainsKey(destroy.VmId))
        {
            Sender.Tell(new CommandRejected(RejectionCode.NoSuchVm, Rejections.NoSuchVm(destroy.VmId)));
            return;
        }

        // Reply only once the actor is gone, so a create that follows starts from a clean journal.
        _destroying[destroy.VmId] = new PendingDestroy(Sender, destroy.RequestId);
        vm.Tell(destroy, Self);
    }

    private void Route(IWithVmId routed)
    {
        if (_vms.TryGetValue(routed.VmId, out var vm) && !_destroying.ContainsKey(routed.VmId))
            vm.Forward(routed);
        else
            Sender.Tell(new CommandRejected(RejectionCode.NoSuchVm, Rejections.NoSuchVm(routed.VmId)));
    }

    private void HandleTerminated(IActorRef actor)
    {
        if (!_idsByActor.Remove(actor, out var vmId))
            return;
        _vms.Remove(vmId);
        if (_destroying.Remove(vmId, out var pending))
        {
            Persist(new VmUnregisteredEvent(vmId, pending.RequestId), ev =>
            {
                _registered.Remove(ev.VmId);
                _recentDestroys.Remember(ev.RequestId, ev.VmId);
                pending.ReplyTo.Tell(new VmDestroyed(ev.VmId));
            });
            return;
        }

        if (_registered.Contains(vmId))
        {
            // Stopped without being destroyed (e.g. its journal failed): start it again from its journal.
            _log.Warning("VM '{0}' stopped unexpectedly; starting it again from its journal", vmId);
            StartVm(vmId);
        }
    }

    private IActorRef StartVm(string vmId)
    {
        var vm = Context.ActorOf(VmActor.Props(vmId, _warnings, _vmSettings), "vm-" + (++_incarnation));
        Context.Watch(vm);
        _vms[vmId] = vm;
        _idsByActor[vm] = vmId;
        return vm;
    }

    private sealed record PendingDestroy(IActorRef ReplyTo, Guid RequestId);

    /// <summary>The last destroys answered, so a resent one gets its answer instead of "no VM".</summary>
    private sealed class RecentDestroys
    {
        private const int Capacity = 1024;
        private readonly HashSet<(Guid, string)> _set = new();
        private readonly Queue<(Guid, string)> _order = new();

        public bool Contains(Guid requestId, string vmId) => requestId != Guid.Empty && _set.Contains((requestId, vmId));

        public void Remember(Guid requestId, string vmId)
        {
            if (requestId == Guid.Empty || !_set.Add((requestId, vmId)))
                return;
            _order.Enqueue((requestId, vmId));
            if (_order.Count > Capacity)
                _set.Remove(_order.Dequeue());
        }
    }
}

/// <summary>The hypervisor's journal: a VM id came into use.</summary>
public sealed record VmRegisteredEvent(string VmId);

/// <summary>The hypervisor's journal: a VM id was released by destroy request <paramref name="RequestId"/>.</summary>
public sealed record VmUnregisteredEvent(string VmId, Guid RequestId = default);
