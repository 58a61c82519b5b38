using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Memory.Vm;
using HekiActors.Observability;
using HekiActors.Protocol;
using HekiActors.Vcpu;

namespace HekiActors.Actors.Vm;

/// <summary>
/// One VM: the single writer of its attribute store, CR pins and vCPU registers (event-sourced), parent of its
/// vCPU actors. The rules live in <see cref="VmCore"/>: a request is decided, its events persisted, the state
/// evolved with them, then every vCPU shoots down the translations the change contradicts, and only after all
/// of them acknowledge is the request answered (heki-semantics.md §6, last rule).
/// </summary>
/// <remarks>
/// Translation misses, reads and vCPU attaches are answered while a journal write is in flight, from the last
/// durable state (the state before the pending events: it is evolved only once the write succeeded). That cannot
/// expose an unacknowledged relaxation, because the new permissions are not handed out before the events are
/// durable; and it cannot let a tightening be acknowledged while a vCPU still uses an older, looser translation,
/// because the shootdown for the change is sent after the write, on the same VM→vCPU path as any fill sent during
/// it, so it reaches the vCPU after that fill and drops it, and the request is answered only after every vCPU
/// acknowledged the shootdown. Changes themselves are serialized: the next mutating request waits (stashed) until
/// the current one is answered.
/// </remarks>
public sealed class VmActor : JournaledActor, IWithTimers
{
    private static readonly TimeSpan ShootdownRetry = TimeSpan.FromSeconds(1);

    private readonly string _vmId;
    private readonly IActorRef _warnings;
    private readonly VmActorSettings _settings;
    private readonly IActorRef? _reportTo;
    // Answers to requests that changed nothing (so they are not in the state): a duplicate is answered again
    // without being decided (and its warnings logged) twice. Volatile and bounded: after a restart, such a request
    // is decided again, to the same answer (see VmCore).
    private readonly RequestMemo<VmOutcome> _memo = new(1024);

    private VmState _state = VmState.Initial();
    private IActorRef[] _vcpus = [];
    // Whether any vCPU of this incarnation was ever sent a translation: until then none holds one, so a change has nothing
    // to shoot down (heki-semantics.md §6: cached translations are invalidated; there are none). A boot's changes all
    // come before its first access: four messages a change and vCPU saved (issue 11). Never cleared: a restarted vCPU
    // keeps its mailbox, which may still hold a fill sent before the restart.
    private bool _translationsSent;
    private long _generation;
    private long _eventsSinceSnapshot;
    private int _vcpuStarts;
    private bool _writing;
    // Snapshot saves and journal deletions requested and not yet answered: a stop (StopVmEntity) waits for them, so a
    // node shut down by its owner, or a shard handed off, leaves the journal as the VM last asked it to be.
    private int _housekeeping;
    private bool _stopWaiting;
    private PendingChange? _pending;
    // The change being written (one at a time, see the remarks) and its events' handler, made once rather than per write.
    private WriteInFlight _write;
    private readonly Action<IVmEvent> _persisted;
    private readonly string _persistenceId;
    private bool _droppedOne;
    private long _plantedIds;

    // Telemetry (docs/observability.md): recent changes' traces for translations, the gauges this incarnation added.
    private ChangeTraces? _changeTraces;
    private string? _countedProfile;
    private long _reportedRuns;

    public VmActor(string vmId, IActorRef warnings, VmActorSettings settings, IActorRef? reportTo)
    {
        _vmId = vmId;
        _persistenceId = PersistenceIdFor(vmId);
        _warnings = warnings;
        _settings = settings;
        _reportTo = reportTo;
        _persisted = Persisted;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // Made once: Akka reads the id for every write and recovery step (a string built each time was ~1 KB a VM's boot).
    public override string PersistenceId => _persistenceId;

    /// <summary>What every VM's persistence id (and entity id) starts with.</summary>
    public const string PersistenceIdPrefix = "vm-";

    /// <summary>The journal key of a VM: one per VM id; a destroy voids everything before it.</summary>
    public static string PersistenceIdFor(string vmId) => PersistenceIdPrefix + vmId;

    /// <summary>The VM entity of <paramref name="vmId"/>.</summary>
    /// <param name="reportTo">A local parent told whether the VM exists (<see cref="VmExistence"/>); null under sharding.</param>
    public static Props Props(string vmId, IActorRef warnings, VmActorSettings settings, IActorRef? reportTo = null) =>
        settings.OnControlDispatcher(FactoryProps.Create((vmId, warnings, settings, reportTo),
            static a => new VmActor(a.vmId, a.warnings, a.settings, a.reportTo)));

    protected override SupervisorStrategy SupervisorStrategy() =>
        // A vCPU that throws is restarted; it re-attaches and rebuilds its translations from this VM.
        new OneForOneStrategy(Decider.From(Directive.Restart));

    // ---- recovery ---------------------------------------------------------------------------------------

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: VmSnapshot snapshot } offer:
                // A corrupt journal fails this VM's recovery (JournalFailed names it), never the model or the process.
                if (VmEventCheck.Problem(snapshot) is { } snapshotProblem)
                    throw new InvalidOperationException($"VM {Printable.Escape(_vmId)}: snapshot {offer.Metadata.SequenceNr} is corrupt: {snapshotProblem}");
                _state = VmState.FromSnapshot(snapshot);
                break;
            case IVmEvent ev:
                if (_settings.Planted == PlantedBug.EventDroppedOnRecovery && ev is PermissionsChangedEvent && !_droppedOne)
                {
                    _droppedOne = true;
                    break;
                }

                if (VmEventCheck.Problem(ev, _state.IsAlive ? _state.Config : null) is { } problem)
                    throw new InvalidOperationException($"VM {Printable.Escape(_vmId)}: event {LastSequenceNr} ({ev.GetType().Name}) is corrupt: {problem}");
                _state = VmCore.Evolve(_state, ev);
                break;
            case RecoveryCompleted:
                if (_state.IsAlive)
                {
                    StartVcpus();
                    CountActive();
                }

                ReportExistence();
                break;
        }
    }

    // ---- commands ---------------------------------------------------------------------------------------

    /// <summary>
    /// A vCPU's translation miss and a guest's command for a vCPU go straight to <see cref="OnCommand"/> once recovered:
    /// Akka's command state makes a delegate for every message it hands on (4.6 MB of a default run's allocations, issue
    /// 11), and these never persist nor unstash, so it has nothing to do for them. Not a shootdown's acknowledgement: it
    /// may answer the change and unstash the next one, which Akka moves to its internal stash and hands back one at a time
    /// after each message it processed (a message taken here would leave the stashed change waiting). During recovery
    /// everything goes through Akka, which stashes it.
    /// </summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is TranslateRequest or IVcpuCommand && !IsRecovering)
        {
            OnCommand(message);
            return true;
        }

        return base.AroundReceive(receive, message);
    }

    protected override void OnCommand(object message)
    {
        if (_vmId.Length == 0 && message is IWithVmId)
        {
            // Only Cluster.Sharding can deliver here (the local parent refuses an empty id itself).
            Sender.Tell(new CommandRejected(RejectionCode.InvalidRequest, "a VM id must not be empty"));
            return;
        }

        // Acknowledgements, translations and reads are served even while a change is being written or shot down.
        switch (message)
        {
            case VcpuSynced synced:
                HandleSynced(synced);
                return;
            case VcpuAttach attach:
                HandleAttach(attach);
                return;
            case TranslateRequest translate:
                HandleTranslate(translate);
                return;
            case RetryShootdown retry:
                HandleRetryShootdown(retry);
                return;
            case SaveSnapshotSuccess success:
                DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
                _housekeeping++;
                HousekeepingDone(); // the save's
                return;
            case SaveSnapshotFailure failure:
                Log.Warning("VM '{0}': snapshot failed: {1}", _vmId, failure.Cause.Message);
                HousekeepingDone();
                return;
            case DeleteSnapshotsSuccess or DeleteSnapshotsFailure or DeleteMessagesSuccess or DeleteMessagesFailure:
                HousekeepingDone();
                return;
            // Not through a lambda: one capturing a pattern variable here was allocated for every message the VM took.
            case GetPermissions get:
                Sender.Tell(_state.IsAlive ? new PermissionsValue(_state.PermissionsGet(get.Gfn)) : NoSuchVm());
                return;
            case GetMemoryAttributes get:
                Sender.Tell(_state.IsAlive ? new AttributesValue(_state.GetAttributes(get.Gfn)) : NoSuchVm());
                return;
            case GetVmStatus:
                Sender.Tell(_state.IsAlive ? Status() : NoSuchVm());
                return;
            case IVcpuCommand forVcpu:
                if (_state.IsAlive)
                    ForwardToVcpu(forVcpu);
                else
                    Sender.Tell(NoSuchVm());
                return;
            case CrashVm crash when _state.IsAlive:
                throw new VmCrashException($"VM '{_vmId}' crashed on request: {crash.Reason}");
            case CrashVm:
                Sender.Tell(NoSuchVm());
                return;
            case StopVmEntity when _writing || _pending is not null || _housekeeping > 0:
                // The change in flight is answered first, and the journal work it started is done.
                _stopWaiting = true;
                Stash.Stash();
                return;
            case StopVmEntity:
                Context.Stop(Self);
                return;
        }

        if (ToCommand(message) is not { } command)
        {
            Unhandled(message);
            return;
        }

        if (_writing || _pending is not null)
        {
            // Changes are serialized: the next one waits until the current one is answered.
            Stash.Stash();
            return;
        }

        Handle(message, command);
    }

    /// <summary>The core's command for a mutating request; null for anything else.</summary>
    private VmCommand? ToCommand(object message) => message switch
    {
        CreateVm create => new VmCommand.Create(_vmId, create.RequestId, create.Config),
        DestroyVm destroy => new VmCommand.Destroy(_vmId, destroy.RequestId),
        ProtectMemoryCall call => new VmCommand.Protect(_vmId, call.RequestId, call.ListPages),
        LockCrCall call => new VmCommand.LockCr(_vmId, call.RequestId, call.Cr, call.Pin, call.Flags),
        CrWriteCall call => new VmCommand.WriteCr(_vmId, call.RequestId, call.Vcpu, call.Cr, call.Value),
        SetPermissions set => new VmCommand.SetPermissions(_vmId, set.RequestId, set.Start, set.End, set.Attr),
        SetMemoryAttributes set => new VmCommand.SetMemoryAttributes(_vmId, set.RequestId, set.Address, set.Size, set.Attributes, set.Flags),
        _ => null,
    };

    private CommandRejected NoSuchVm() => new(RejectionCode.NoSuchVm, Rejections.NoSuchVm(_vmId));

    /// <summary>Decides a mutating request, then answers it at once (no change) or after its change is in force.</summary>
    private void Handle(object message, VmCommand command)
    {
        var replyTo = Sender;
        var startedAt = Stopwatch.GetTimestamp();
        if (_settings.Planted == PlantedBug.DuplicateAppliedTwice && command is not (VmCommand.Create or VmCommand.Destroy))
            command = command with { RequestId = new Guid(0x0C4A05, 0, 0, BitConverter.GetBytes(++_plantedIds)) }; // never seen before
        var telemetry = _state.IsAlive ? StartTelemetry(message, _state.Config.Profile) : null;
        if (_memo.TryGet(command.RequestId, out var remembered))
        {
            // A refused CR write's resend reports the asking vCPU's register as it is now (it may come from another vCPU).
            if (remembered is VmOutcome.CrWrite refused && command is VmCommand.WriteCr write && write.Vcpu < _state.VcpuCount)
                remembered = refused with { Value = _state.ControlRegister(write.Vcpu, write.Cr) };
            Reply(replyTo, ReplyFor(message, remembered), telemetry, RetOf(remembered), startedAt);
            return;
        }

        telemetry?.Validating();
        var decision = VmCore.Decide(_state, command);
        telemetry?.Validated();
        var outcome = decision.Outcome;
        var warnings = decision.Warnings;
        for (var i = 0; i < warnings.Count; i++) // by index: a foreach over the interface boxes an enumerator per request
            Report(warnings[i], telemetry);
        Count(message, outcome, telemetry);
        var reply = ReplyFor(message, outcome);
        if (decision.Events.Count == 0)
        {
            // Only fresh answers: one from the state's record is already remembered there.
            if (outcome is VmOutcome.Returned or VmOutcome.CrWrite && !_state.TryGetAnswer(command.RequestId, out _))
                _memo.Remember(command.RequestId, outcome);
            Reply(replyTo, reply, telemetry, RetOf(outcome), startedAt);
            return;
        }

        PersistChange(decision.Events, replyTo, reply, telemetry, RetOf(outcome), startedAt);
    }

    /// <summary>
    /// Writes a decision's events; once they are durable, evolves the state with them, shoots down what changed
    /// and replies. Until then every other mutating request is stashed while translations and reads go on from
    /// the durable state (see the remarks above). If the write fails the actor stops and recovers from the
    /// journal, where the change is absent, and the request is never answered.
    /// </summary>
    private void PersistChange(IReadOnlyList<IVmEvent> events, IActorRef replyTo, object reply, RequestTelemetry? telemetry, long ret,
        long startedAt)
    {
        telemetry?.Persisting();
        if (_settings.Planted == PlantedBug.AckBeforeDurable && events[0] is not (VmConfiguredEvent or VmDestroyedEvent))
        {
            Reply(replyTo, reply, telemetry, ret, startedAt);
            replyTo = ActorRefs.Nobody;
            telemetry = null;
        }

        _writing = true;
        _write = new WriteInFlight(events.Count, GfnRange.Empty, replyTo, reply, telemetry, ret, startedAt);
        PersistAllAsync(events, _persisted);
    }

    /// <summary>One event of the change in flight is durable: evolve with it; after the last, put the change in force.</summary>
    private void Persisted(IVmEvent ev)
    {
        _state = VmCore.Evolve(_state, ev, out var evChanged);
        _write.Changed = _write.Changed.Union(evChanged);
        Evolved(ev);
        if (--_write.Remaining > 0)
            return;
        _writing = false;
        var write = _write;
        _write = default;
        if (ev is VmConfiguredEvent or VmDestroyedEvent)
            ReportExistence();
        InForce(write.Changed, write.ReplyTo, write.Reply, write.Telemetry, write.Ret, write.StartedAt);
    }

    /// <summary>What an event means for the actor besides its state: vCPUs to start or stop, snapshots, gauges.</summary>
    private void Evolved(IVmEvent ev)
    {
        switch (ev)
        {
            case VmConfiguredEvent:
                _eventsSinceSnapshot = 0;
                // A new VM gets rate limiters of its own, even under a destroyed VM's id (issue 8 item 12); told
                // before its vCPUs start, so nothing of this incarnation can report first.
                _warnings.Tell(new ResetVmWarnings(_vmId));
                StartVcpus();
                CountActive();
                break;
            case VmDestroyedEvent:
                // The entity stays, holding only the ids of its destroys; a create starts a fresh incarnation.
                foreach (var vcpu in _vcpus)
                    Context.Stop(vcpu);
                _vcpus = [];
                UncountActive();
                _warnings.Tell(new ResetVmWarnings(_vmId));
                // The destroyed event voids everything before it, so it stays in the journal: whichever of these
                // deletions completes first, or fails, a recovery still ends at "destroyed" (an old snapshot is
                // followed by this event), and a new incarnation starts from nothing but the destroy ids. Both are
                // bounded by this event: the store runs them whenever it gets to them, maybe after a re-created VM
                // (the same entity, at once) saved snapshots of its own, which must survive.
                DeleteMessages(LastSequenceNr - 1);
                DeleteSnapshots(new SnapshotSelectionCriteria(LastSequenceNr - 1));
                _housekeeping += 2;
                break;
            default:
                MaybeSnapshot();
                break;
        }
    }

    /// <summary>The change is durable and in the state: shoot down what it contradicts, then reply.</summary>
    private void InForce(GfnRange changed, IActorRef replyTo, object reply, RequestTelemetry? telemetry, long ret, long startedAt)
    {
        if (!changed.IsEmpty)
            ChangeApplied(changed, telemetry);
        // A traced change keeps its shootdown (its spans show every vCPU's invalidation), translations sent or not.
        var shootingDown = !changed.IsEmpty && _vcpus.Length > 0 && _settings.Planted != PlantedBug.SkippedShootdown
            && (_translationsSent || telemetry is not null);
        var shootdownTrace = telemetry?.Persisted(shootingDown);
        if (!shootingDown)
        {
            Reply(replyTo, reply, telemetry, ret, startedAt);
            Stash.UnstashAll();
            return;
        }

        _generation++;
        _pending = new PendingChange(_generation, changed, replyTo, reply, _vcpus.Length, telemetry, ret, shootdownTrace, startedAt);
        var shootdown = new Shootdown(_generation, changed, shootdownTrace);
        foreach (var vcpu in _vcpus)
            vcpu.Tell(shootdown);
        Timers.StartSingleTimer(RetryShootdown.Key, new RetryShootdown(_generation), ShootdownRetry);
    }

    private object ReplyFor(object message, VmOutcome outcome) => (message, outcome) switch
    {
        (_, VmOutcome.Rejected rejected) => new CommandRejected(rejected.Code, rejected.Reason),
        (_, VmOutcome.Created) => new VmCreated(_vmId),
        (_, VmOutcome.Destroyed) => new VmDestroyed(_vmId),
        (SetPermissions or SetMemoryAttributes, VmOutcome.Returned returned) => new HostReturn((int)returned.Ret),
        (_, VmOutcome.Returned returned) => new HypercallDone(returned.Ret, returned.HostIntegrityFaults),
        (_, VmOutcome.CrWrite write) => new CrWriteResult(write.Written, write.Cr, write.Value),
        _ => throw new InvalidOperationException($"no reply for {outcome} to {message.GetType().Name}"),
    };

    /// <summary>The result telemetry records: a return value, or for a CR write 0 (written) or -EPERM (refused).</summary>
    private static long RetOf(VmOutcome outcome) => outcome switch
    {
        VmOutcome.Returned returned => returned.Ret,
        VmOutcome.CrWrite write => write.Written ? Errno.Ok : Errno.EPERM,
        _ => Errno.Ok,
    };

    private RequestTelemetry? StartTelemetry(object message, HekiProfile profile) => message switch
    {
        ProtectMemoryCall call => RequestTelemetry.Hypercall(HekiTagValues.ProtectMemory, profile, _vmId, call.TraceParent),
        LockCrCall call => RequestTelemetry.Hypercall(HekiTagValues.LockCrUpdate, profile, _vmId, call.TraceParent),
        CrWriteCall call => RequestTelemetry.Start(HekiSpans.CrWrite, new(HekiTags.ControlRegister, HekiTagValues.Cr(call.Cr)), profile, _vmId,
            call.TraceParent),
        SetPermissions => RequestTelemetry.Start(HekiSpans.HostRequest, new(HekiTags.HostOperation, HekiTagValues.SetPermissions), profile,
            _vmId, null),
        SetMemoryAttributes => RequestTelemetry.Start(HekiSpans.HostRequest, new(HekiTags.HostOperation, HekiTagValues.SetMemoryAttributes),
            profile, _vmId, null),
        _ => null,
    };

    /// <summary>The decision's counters and the host-integrity log line.</summary>
    private void Count(object message, VmOutcome outcome, RequestTelemetry? telemetry)
    {
        switch (message, outcome)
        {
            case (ProtectMemoryCall, VmOutcome.Returned returned):
                if (returned.Ret == Errno.EPERM)
                    CountImmutableRejection(HekiTagValues.Guest); // CPL was checked by the vCPU: only an immutable page refuses
                if (returned.HostIntegrityFaults > 0 && HekiMetrics.HostIntegrityFaults.Enabled)
                    HekiMetrics.HostIntegrityFaults.Add(returned.HostIntegrityFaults, ProfileTag(_state.Config.Profile));
                if (returned.HostIntegrityFaults > 0)
                    Log.Error("VM '{0}': PROTECT_MEMORY list page overflowed the host buffer ({1} page(s)): host integrity fault",
                        _vmId, returned.HostIntegrityFaults);
                break;
            case (SetPermissions, VmOutcome.Returned { Ret: Errno.EPERM }):
                CountImmutableRejection(HekiTagValues.Host);
                break;
            case (CrWriteCall call, VmOutcome.CrWrite { Written: false }):
                CountCrPinBlock(call.Cr, telemetry);
                break;
        }
    }

    private void MaybeSnapshot()
    {
        if (++_eventsSinceSnapshot < _settings.SnapshotEvery)
            return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(_state.ToSnapshot());
        _housekeeping++;
    }

    /// <summary>A snapshot save or journal deletion was answered; a stop waiting only for that may go on.</summary>
    private void HousekeepingDone()
    {
        // A restarted actor may hear of its predecessor's requests: never below zero.
        _housekeeping = Math.Max(0, _housekeeping - 1);
        if (_housekeeping == 0 && _stopWaiting && !_writing && _pending is null)
        {
            _stopWaiting = false;
            Stash.UnstashAll();
        }
    }

    private void HandleSynced(VcpuSynced synced)
    {
        if (_pending is null || synced.Generation < _pending.Generation || !IsCurrentVcpu(synced.Vcpu))
            return;
        if (_pending.Acknowledge(synced.Vcpu))
            Complete();
    }

    private void Complete()
    {
        var pending = _pending!;
        _pending = null;
        Timers.Cancel(RetryShootdown.Key);
        pending.Telemetry?.ShotDown();
        Reply(pending.ReplyTo, pending.Reply, pending.Telemetry, pending.Ret, pending.StartedAt);
        Stash.UnstashAll();
    }

    private void HandleRetryShootdown(RetryShootdown retry)
    {
        // A vCPU that crashed while handling the shootdown never acknowledged it; its successor will.
        if (_pending is null || _pending.Generation != retry.Generation)
            return;
        var shootdown = new Shootdown(_pending.Generation, _pending.Range, _pending.ShootdownTrace);
        foreach (var index in _pending.Missing())
            _vcpus[index].Tell(shootdown);
        Timers.StartSingleTimer(RetryShootdown.Key, retry, ShootdownRetry);
    }

    private void HandleAttach(VcpuAttach attach)
    {
        if (!_state.IsAlive || !IsCurrentVcpu(attach.Vcpu))
            return;
        Sender.Tell(new VcpuState(_state.ControlRegisters(attach.Vcpu), _generation));
        // A (re)started vCPU holds no translation, so it is in sync with every change so far.
        if (_pending is not null && _pending.Acknowledge(attach.Vcpu))
            Complete();
    }

    /// <summary>A translation miss: the run around the gfn in the durable state (served during journal writes too).</summary>
    private void HandleTranslate(TranslateRequest translate)
    {
        if (!_state.IsAlive)
            return;
        var startedAt = Stopwatch.GetTimestamp();
        var region = _state.RegionOf(translate.Gfn);
        var permissions = (byte)VmMemoryAttributes.PermissionsOf(region.Word, _state.Config.Profile);
        // Traced, the translation carries the latest change over its run, which a violation on it continues.
        var traceParent = _changeTraces?.Latest(region.Start, region.End);
        _translationsSent = true;
        Sender.Tell(new TranslationFill(translate.Gfn, region.Start, region.End, permissions, _generation, traceParent, PicosecondsSince(startedAt)));
    }

    /// <summary>
    /// Whether the sender is vCPU <paramref name="index"/> of this incarnation: a late message from a vCPU of a destroyed
    /// incarnation (stopping, but with an attach or an acknowledgement already sent) must not count for the new one.
    /// </summary>
    private bool IsCurrentVcpu(int index) => index >= 0 && index < _vcpus.Length && _vcpus[index].Equals(Sender);

    private void ForwardToVcpu(IVcpuCommand command)
    {
        if (command.Vcpu < 0 || command.Vcpu >= _vcpus.Length)
        {
            Sender.Tell(new CommandRejected(RejectionCode.NoSuchVcpu, Rejections.NoSuchVcpu(_vmId, command.Vcpu, _vcpus.Length)));
            return;
        }

        _vcpus[command.Vcpu].Forward(command);
    }

    private void StartVcpus()
    {
        var config = _state.Config;
        _vcpus = new IActorRef[config.VcpuCount];
        _translationsSent = false; // new vCPUs, new mailboxes: none holds a translation
        // A re-created VM's vCPUs get names of their own: the stopped ones of the destroyed incarnation may still hold theirs.
        var suffix = _vcpuStarts++ == 0 ? "" : "." + _vcpuStarts;
        for (var i = 0; i < config.VcpuCount; i++)
            _vcpus[i] = Context.ActorOf(_settings.OnVcpuDispatcher(VcpuActor.Props(_vmId, i, config, _warnings)), "vcpu-" + i + suffix);
    }

    /// <summary>Tells the warning supervisor of a decision's line; a range's line goes unformatted (formatted if printed).</summary>
    private void Report(WarningLine line, RequestTelemetry? telemetry) =>
        _warnings.Tell(line.HasText
            ? new WarningReport(_vmId, _state.Config.Profile, line.Site, line.Text, telemetry?.TraceParent)
            : new RangeWarningReport(_vmId, _state.Config.Profile, line.Site, line.Start, line.End, line.Permissions, telemetry?.TraceParent));

    /// <summary>Answers a request taken up at <paramref name="startedAt"/>; a hypercall's answer (to its vCPU) carries the VM's time on it.</summary>
    private static void Reply(IActorRef replyTo, object reply, RequestTelemetry? telemetry, long ret, long startedAt)
    {
        if (reply is HypercallDone done)
            reply = new HypercallServed(done, PicosecondsSince(startedAt));
        if (telemetry is null)
            replyTo.Tell(reply);
        else
            telemetry.Reply(replyTo, reply, ret);
    }

    // ---- telemetry (docs/observability.md) ---------------------------------------------------------------

    /// <summary>A change is in the store: remember its trace for translations, and move the store-runs gauge.</summary>
    private void ChangeApplied(GfnRange changed, RequestTelemetry? telemetry)
    {
        if (telemetry?.ChangeTraceParent is { } traceParent)
            (_changeTraces ??= new ChangeTraces()).Remember(changed, traceParent);
        ReportStoreRuns();
    }

    /// <summary>Adds the change in this VM's run count since the last report (counting runs walks them: only when on).</summary>
    private void ReportStoreRuns()
    {
        if (!_state.IsAlive || !HekiMetrics.StoreRuns.Enabled)
            return;
        var runs = _state.RunCount;
        if (runs != _reportedRuns)
            HekiMetrics.StoreRuns.Add(runs - _reportedRuns, ProfileTag(_state.Config.Profile));
        _reportedRuns = runs;
    }

    /// <summary>The VM is up (created or recovered): counted once per incarnation, undone in <see cref="PostStop"/>.</summary>
    private void CountActive()
    {
        if (_countedProfile is not null || !HekiMetrics.ActiveVms.Enabled)
        {
            ReportStoreRuns();
            return;
        }

        _countedProfile = HekiTagValues.Of(_state.Config.Profile);
        HekiMetrics.ActiveVms.Add(1, new KeyValuePair<string, object?>(HekiTags.Profile, _countedProfile));
        ReportStoreRuns();
    }

    protected override void PostStop()
    {
        // A stop or a restart: take back what this incarnation added, so the gauges stay right.
        UncountActive();
        base.PostStop();
    }

    /// <summary>Takes back what <see cref="CountActive"/> added (a destroy, a stop or a restart).</summary>
    private void UncountActive()
    {
        if (_countedProfile is not null)
        {
            HekiMetrics.ActiveVms.Add(-1, new KeyValuePair<string, object?>(HekiTags.Profile, _countedProfile));
            if (_reportedRuns != 0)
                HekiMetrics.StoreRuns.Add(-_reportedRuns, new KeyValuePair<string, object?>(HekiTags.Profile, _countedProfile));
            _countedProfile = null;
            _reportedRuns = 0;
        }
    }

    /// <summary>Tells a local parent whether this VM exists now (it answers ListVms from that).</summary>
    private void ReportExistence() => _reportTo?.Tell(new VmExistence(_vmId, _state.IsAlive));

    private void CountImmutableRejection(string source)
    {
        if (!HekiMetrics.ImmutableRejections.Enabled)
            return;
        var tags = new TagList { { HekiTags.Profile, HekiTagValues.Of(_state.Config.Profile) }, { HekiTags.Source, source } };
        if (HekiTelemetry.PerVmLabels)
            tags.Add(HekiTags.Vm, _vmId);
        HekiMetrics.ImmutableRejections.Add(1, tags);
    }

    private void CountCrPinBlock(int cr, RequestTelemetry? telemetry)
    {
        if (!HekiMetrics.CrPinBlocks.Enabled)
            return;
        var tags = new TagList { { HekiTags.Profile, HekiTagValues.Of(_state.Config.Profile) }, { HekiTags.ControlRegister, HekiTagValues.Cr(cr) } };
        if (HekiTelemetry.PerVmLabels)
            tags.Add(HekiTags.Vm, _vmId);
        HekiMetrics.CrPinBlocks.Add(1, tags);
        // A #GP is a violation too (the vocabulary's "violations"), counted with the CR write's span current (its exemplar).
        var violation = new TagList { { HekiTags.Profile, HekiTagValues.Of(_state.Config.Profile) }, { HekiTags.Exception, HekiTagValues.GeneralProtection } };
        if (HekiTelemetry.PerVmLabels)
            violation.Add(HekiTags.Vm, _vmId);
        if (telemetry is null)
            HekiMetrics.Violations.Add(1, violation);
        else
            telemetry.Counted(violation, static tags => HekiMetrics.Violations.Add(1, tags));
    }

    private static KeyValuePair<string, object?> ProfileTag(HekiProfile profile) => new(HekiTags.Profile, HekiTagValues.Of(profile));

    private VmStatus Status() => new(_vmId, _state.Config, _state.RunCount, _state.BoundaryCount, _state.Pins.Cr0, _state.Pins.Cr4,
        _generation, LastSequenceNr);

    private static long PicosecondsSince(long timestamp) =>
        (long)((Stopwatch.GetTimestamp() - timestamp) * (1_000_000_000_000.0 / Stopwatch.Frequency));

    /// <summary>A change whose events are being written: what is left of them, what they changed so far, and its answer.</summary>
    private struct WriteInFlight(int remaining, GfnRange changed, IActorRef replyTo, object reply, RequestTelemetry? telemetry, long ret,
        long startedAt)
    {
        public int Remaining = remaining;
        public GfnRange Changed = changed;
        public readonly IActorRef ReplyTo = replyTo;
        public readonly object Reply = reply;
        public readonly RequestTelemetry? Telemetry = telemetry;
        public readonly long Ret = ret;
        public readonly long StartedAt = startedAt;
    }

    /// <summary>A persisted change waiting for every vCPU's shootdown acknowledgement.</summary>
    private sealed class PendingChange(long generation, GfnRange range, IActorRef replyTo, object reply, int vcpus,
        RequestTelemetry? telemetry, long ret, string? shootdownTrace, long startedAt)
    {
        public long StartedAt { get; } = startedAt;
        private readonly bool[] _synced = new bool[vcpus];
        private int _remaining = vcpus;

        public long Generation { get; } = generation;
        public GfnRange Range { get; } = range;
        public IActorRef ReplyTo { get; } = replyTo;
        public object Reply { get; } = reply;
        public RequestTelemetry? Telemetry { get; } = telemetry;
        public long Ret { get; } = ret;
        public string? ShootdownTrace { get; } = shootdownTrace;

        /// <summary>Marks one vCPU; true when it was the last.</summary>
        public bool Acknowledge(int vcpu)
        {
            if (vcpu < 0 || vcpu >= _synced.Length || _synced[vcpu])
                return false;
            _synced[vcpu] = true;
            return --_remaining == 0;
        }

        public IEnumerable<int> Missing()
        {
            for (var i = 0; i < _synced.Length; i++)
                if (!_synced[i])
                    yield return i;
        }
    }

    private sealed record RetryShootdown(long Generation) : INoSerializationVerificationNeeded
    {
        public const string Key = "retry-shootdown";
    }
}

/// <summary>Tunables of a VM actor.</summary>
/// <param name="SnapshotEvery">Events between snapshots, so recovery replays at most this many.</param>
/// <param name="ControlDispatcher">The dispatcher of VM actors and their parent (null: the default one).</param>
/// <param name="VcpuDispatcher">The dispatcher of vCPU actors (null: the default one).</param>
public sealed record VmActorSettings(int SnapshotEvery = 500, string? ControlDispatcher = null, string? VcpuDispatcher = null)
{
    public static readonly VmActorSettings Default = new();

    /// <summary><paramref name="props"/> on <see cref="ControlDispatcher"/> when one is named.</summary>
    public Props OnControlDispatcher(Props props) => ControlDispatcher is { } dispatcher ? props.WithDispatcher(dispatcher) : props;

    /// <summary><paramref name="props"/> on <see cref="VcpuDispatcher"/> when one is named.</summary>
    public Props OnVcpuDispatcher(Props props) => VcpuDispatcher is { } dispatcher ? props.WithDispatcher(dispatcher) : props;

    /// <summary>A bug planted by the chaos tests (docs/chaos.md); never set outside them.</summary>
    internal PlantedBug Planted { get; init; }
}

/// <summary>Thrown on purpose by <see cref="CrashVm"/>; supervision restarts the VM, which recovers from its journal.</summary>
public sealed class VmCrashException(string message) : Exception(message);
