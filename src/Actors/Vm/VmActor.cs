using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using HekiActors.Actors.Hosting;
using HekiActors.Protocol;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Vcpu;

namespace HekiActors.Actors.Vm;

/// <summary>
/// One VM: the single writer of its attribute store, CR pins and vCPU registers (event-sourced), parent of its
/// vCPU actors. A change is acknowledged only after it is persisted and every vCPU has acknowledged the
/// shootdown of the translations it contradicts (heki-semantics.md §6). The rules live in <see cref="VmState"/>.
/// </summary>
public sealed class VmActor : UntypedPersistentActor, IWithTimers
{
    private static readonly TimeSpan ShootdownRetry = TimeSpan.FromSeconds(1);

    private readonly string _vmId;
    private readonly IActorRef _warnings;
    private readonly VmActorSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private VmState? _state;
    private IActorRef[] _vcpus = [];
    private long _generation;
    private long _eventsSinceSnapshot;
    private PendingChange? _pending;

    // Telemetry (docs/observability.md): recent changes' traces for translations, the gauges this incarnation added.
    private ChangeTraces? _changeTraces;
    private string? _countedProfile;
    private long _reportedRuns;

    public VmActor(string vmId, IActorRef warnings, VmActorSettings settings)
    {
        _vmId = vmId;
        _warnings = warnings;
        _settings = settings;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public override string PersistenceId => PersistenceIdFor(_vmId);

    /// <summary>The journal key of a VM: one per VM id; a destroy voids everything before it.</summary>
    public static string PersistenceIdFor(string vmId) => "vm-" + vmId;

    public static Props Props(string vmId, IActorRef warnings, VmActorSettings settings) =>
        Akka.Actor.Props.Create(() => new VmActor(vmId, warnings, settings));

    protected override SupervisorStrategy SupervisorStrategy() =>
        // A vCPU that throws is restarted; it re-attaches and rebuilds its translations from this VM.
        new OneForOneStrategy(Decider.From(Directive.Restart));

    // ---- recovery ---------------------------------------------------------------------------------------

    // A failing journal stops this actor (Akka.Persistence): say so, so that nothing waits for its answers forever.
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        JournalFailures.Publish(Context, PersistenceId, reason);
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        JournalFailures.Publish(Context, PersistenceId, cause);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        JournalFailures.Publish(Context, PersistenceId, cause);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: VmSnapshot snapshot }:
                _state = VmState.FromSnapshot(snapshot);
                break;
            case IVmEvent ev:
                _state = VmState.Apply(_state, ev);
                break;
            case RecoveryCompleted:
                if (_state is not null)
                {
                    StartVcpus();
                    CountActive();
                }

                break;
        }
    }

    // ---- commands ---------------------------------------------------------------------------------------

    protected override void OnCommand(object message)
    {
        // Acknowledgements and reads are served even while a change waits for its shootdowns.
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
                return;
            case SaveSnapshotFailure failure:
                _log.Warning("VM '{0}': snapshot failed: {1}", _vmId, failure.Cause.Message);
                return;
            case DeleteSnapshotsSuccess or DeleteSnapshotsFailure or DeleteMessagesSuccess or DeleteMessagesFailure:
                return;
        }

        if (_state is null)
        {
            HandleWhileAbsent(message);
            return;
        }

        switch (message)
        {
            case GetPermissions get:
                Sender.Tell(new PermissionsValue(_state.Memory.PermissionsGet(get.Gfn)));
                return;
            case GetMemoryAttributes get:
                Sender.Tell(new AttributesValue(_state.Memory.GetAttributes(get.Gfn)));
                return;
            case GetVmStatus:
                Sender.Tell(Status());
                return;
            case IVcpuCommand command:
                ForwardToVcpu(command);
                return;
        }

        if (_pending is not null)
        {
            // Changes are serialized: the next one waits until the current one is acknowledged.
            Stash.Stash();
            return;
        }

        switch (message)
        {
            case ProtectMemoryCall call:
                HandleProtectMemory(call);
                break;
            case LockCrCall call:
                HandleLockCr(call);
                break;
            case CrWriteCall call:
                HandleCrWrite(call);
                break;
            case SetPermissions set:
                HandleSetPermissions(set);
                break;
            case SetMemoryAttributes set:
                HandleSetMemoryAttributes(set);
                break;
            case CreateVm create when create.RequestId != Guid.Empty && create.RequestId == _state.CreatedBy:
                Sender.Tell(new VmCreated(_vmId)); // a resent create: already applied
                break;
            case CreateVm create:
                Sender.Tell(new CommandRejected($"VM '{create.VmId}' already exists"));
                break;
            case DestroyVm destroy:
                HandleDestroy(destroy);
                break;
            case CrashVm crash:
                throw new VmCrashException($"VM '{_vmId}' crashed on request: {crash.Reason}");
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandleWhileAbsent(object message)
    {
        switch (message)
        {
            case CreateVm create:
                HandleCreate(create);
                break;
            case IWithVmId:
                Sender.Tell(new CommandRejected($"no VM named '{_vmId}'"));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandleCreate(CreateVm create)
    {
        var replyTo = Sender;
        Persist(new VmConfiguredEvent(create.Config, create.RequestId), ev =>
        {
            _state = VmState.Create(ev.Config, ev.RequestId);
            _eventsSinceSnapshot = 0;
            StartVcpus();
            CountActive();
            replyTo.Tell(new VmCreated(_vmId));
        });
    }

    private void HandleDestroy(DestroyVm destroy)
    {
        var replyTo = Sender;
        Persist(new VmDestroyedEvent(), _ =>
        {
            _state = null;
            foreach (var vcpu in _vcpus)
                Context.Stop(vcpu);
            _vcpus = [];
            // The destroyed event voids everything before it, so it stays in the journal: whichever of these
            // deletions completes first, or fails, a recovery still ends at "destroyed" (an old snapshot is
            // followed by this event), and a new incarnation starts from nothing.
            DeleteMessages(LastSequenceNr - 1);
            DeleteSnapshots(SnapshotSelectionCriteria.Latest);
            replyTo.Tell(new VmDestroyed(_vmId));
            Context.Stop(Self);
        });
    }

    private void HandleProtectMemory(ProtectMemoryCall call)
    {
        var replyTo = Sender;
        var telemetry = RequestTelemetry.Hypercall(HekiTagValues.ProtectMemory, _state!.Config.Profile, _vmId, call.TraceParent);
        if (_state.Answered.TryGet(call.RequestId, out var answered))
        {
            Reply(replyTo, new HypercallDone(answered), telemetry, answered);
            return;
        }

        telemetry?.Validating();
        var (outcome, ev) = _state.Protect(call.RequestId, call.ListPages);
        telemetry?.Validated();
        Report(outcome.Warnings, telemetry);
        if (outcome.Ret == Errno.EPERM)
            CountImmutableRejection(HekiTagValues.Guest); // CPL was checked by the vCPU: only an immutable page refuses
        if (outcome.HostIntegrityFaults > 0)
            _log.Error("VM '{0}': PROTECT_MEMORY list page overflowed the host buffer ({1} page(s)): host integrity fault",
                _vmId, outcome.HostIntegrityFaults);
        var reply = new HypercallDone(outcome.Ret, outcome.HostIntegrityFaults);
        if (ev is null)
        {
            Reply(replyTo, reply, telemetry, outcome.Ret);
            return;
        }

        PersistChange(ev, outcome.Changed, replyTo, reply, telemetry, outcome.Ret);
    }

    private void HandleSetPermissions(SetPermissions set)
    {
        var replyTo = Sender;
        var telemetry = RequestTelemetry.Start(HekiSpans.HostRequest, new(HekiTags.HostOperation, HekiTagValues.SetPermissions),
            _state!.Config.Profile, _vmId, null);
        if (_state.Answered.TryGet(set.RequestId, out var answered))
        {
            Reply(replyTo, new HostReturn((int)answered), telemetry, answered);
            return;
        }

        telemetry?.Validating();
        var (ret, changed, ev) = _state.SetPermissions(set.RequestId, set.Start, set.End, set.Attr);
        telemetry?.Validated();
        if (ret == Errno.EPERM)
        {
            CountImmutableRejection(HekiTagValues.Host);
            Report(WarningSite.ImmutableChange, HekiWarnings.ImmutableChange(set.Start, set.End), telemetry);
        }

        if (ev is null)
            Reply(replyTo, new HostReturn(ret), telemetry, ret);
        else
            PersistChange(ev, changed, replyTo, new HostReturn(ret), telemetry, ret);
    }

    private void HandleSetMemoryAttributes(SetMemoryAttributes set)
    {
        var replyTo = Sender;
        var telemetry = RequestTelemetry.Start(HekiSpans.HostRequest, new(HekiTags.HostOperation, HekiTagValues.SetMemoryAttributes),
            _state!.Config.Profile, _vmId, null);
        if (_state.Answered.TryGet(set.RequestId, out var answered))
        {
            Reply(replyTo, new HostReturn((int)answered), telemetry, answered);
            return;
        }

        telemetry?.Validating();
        var (ret, changed, ev) = _state.SetMemoryAttributes(set.RequestId, set.Address, set.Size, set.Attributes, set.Flags);
        telemetry?.Validated();
        if (ev is null)
            Reply(replyTo, new HostReturn(ret), telemetry, ret);
        else
            PersistChange(ev, changed, replyTo, new HostReturn(ret), telemetry, ret);
    }

    private void HandleLockCr(LockCrCall call)
    {
        var replyTo = Sender;
        var telemetry = RequestTelemetry.Hypercall(HekiTagValues.LockCrUpdate, _state!.Config.Profile, _vmId, call.TraceParent);
        if (_state.Answered.TryGet(call.RequestId, out var answered))
        {
            Reply(replyTo, new HypercallDone(answered), telemetry, answered);
            return;
        }

        // Pins are enforced here, where CR writes are decided, so no vCPU shootdown is needed.
        telemetry?.Validating();
        var (ret, ev) = _state.LockCr(call.RequestId, call.Cr, call.Pin, call.Flags);
        telemetry?.Validated();
        if (ev is null)
            Reply(replyTo, new HypercallDone(ret), telemetry, ret);
        else
            PersistChange(ev, GfnRange.Empty, replyTo, new HypercallDone(ret), telemetry, ret);
    }

    private void HandleCrWrite(CrWriteCall call)
    {
        var replyTo = Sender;
        var telemetry = RequestTelemetry.Start(HekiSpans.CrWrite, new(HekiTags.ControlRegister, HekiTagValues.Cr(call.Cr)),
            _state!.Config.Profile, _vmId, call.TraceParent);
        if (_state.Answered.TryGet(call.RequestId, out var answered))
        {
            Reply(replyTo, new CrWriteResult(answered != 0, call.Cr, _state.ControlRegisters[call.Vcpu][call.Cr]), telemetry,
                answered != 0 ? Errno.Ok : Errno.EPERM);
            return;
        }

        telemetry?.Validating();
        var (verdict, ev) = _state.WriteCr(call.RequestId, call.Vcpu, call.Cr, call.Value);
        telemetry?.Validated();
        if (!verdict.Allowed)
            CountCrPinBlock(call.Cr);
        if (verdict.Warning is { } warning)
            Report(warning.Site, warning.Text, telemetry);
        if (ev is null)
            Reply(replyTo, new CrWriteResult(verdict.Allowed, call.Cr, _state.ControlRegisters[call.Vcpu][call.Cr]), telemetry,
                verdict.Allowed ? Errno.Ok : Errno.EPERM);
        else
            PersistChange(ev, GfnRange.Empty, replyTo, new CrWriteResult(true, call.Cr, call.Value), telemetry, Errno.Ok);
    }

    /// <summary>
    /// Persists a change the state already holds, then shoots down translations and replies. Persist stashes
    /// every other command until the write completes, so nobody sees unpersisted state; if the write fails the
    /// actor stops and recovers from the journal, where the change is absent.
    /// </summary>
    private void PersistChange(IVmEvent ev, GfnRange changed, IActorRef replyTo, object reply, RequestTelemetry? telemetry, long ret)
    {
        telemetry?.Persisting();
        Persist(ev, _ =>
        {
            MaybeSnapshot();
            if (!changed.IsEmpty)
                ChangeApplied(changed, telemetry);
            var shootingDown = !changed.IsEmpty && _vcpus.Length > 0;
            var shootdownTrace = telemetry?.Persisted(shootingDown);
            if (!shootingDown)
            {
                Reply(replyTo, reply, telemetry, ret);
                return;
            }

            _generation++;
            _pending = new PendingChange(_generation, changed, replyTo, reply, _vcpus.Length, telemetry, ret, shootdownTrace);
            var shootdown = new Shootdown(_generation, changed, shootdownTrace);
            foreach (var vcpu in _vcpus)
                vcpu.Tell(shootdown);
            Timers.StartSingleTimer(RetryShootdown.Key, new RetryShootdown(_generation), ShootdownRetry);
        });
    }

    private void MaybeSnapshot()
    {
        if (++_eventsSinceSnapshot < _settings.SnapshotEvery)
            return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(_state!.ToSnapshot());
    }

    private void HandleSynced(VcpuSynced synced)
    {
        if (_pending is null || synced.Generation < _pending.Generation)
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
        Reply(pending.ReplyTo, pending.Reply, pending.Telemetry, pending.Ret);
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
        if (_state is null || attach.Vcpu < 0 || attach.Vcpu >= _state.ControlRegisters.Length)
            return;
        Sender.Tell(new VcpuState((ulong[])_state.ControlRegisters[attach.Vcpu].Clone(), _generation));
        // A (re)started vCPU holds no translation, so it is in sync with every change so far.
        if (_pending is not null && _pending.Acknowledge(attach.Vcpu))
            Complete();
    }

    private void HandleTranslate(TranslateRequest translate)
    {
        if (_state is null)
            return;
        var region = _state.Memory.RegionOf(translate.Gfn);
        var permissions = (byte)VmMemoryAttributes.PermissionsOf(region.Word, _state.Config.Profile);
        // Traced, the translation carries the latest change over its run, which a violation on it continues.
        var traceParent = _changeTraces?.Latest(region.Start, region.End);
        Sender.Tell(new TranslationFill(translate.Gfn, region.Start, region.End, permissions, _generation, traceParent));
    }

    private void ForwardToVcpu(IVcpuCommand command)
    {
        if (command.Vcpu < 0 || command.Vcpu >= _vcpus.Length)
        {
            Sender.Tell(new CommandRejected($"VM '{_vmId}' has no vCPU {command.Vcpu} (it has {_vcpus.Length})"));
            return;
        }

        _vcpus[command.Vcpu].Forward(command);
    }

    private void StartVcpus()
    {
        var config = _state!.Config;
        _vcpus = new IActorRef[config.VcpuCount];
        for (var i = 0; i < config.VcpuCount; i++)
            _vcpus[i] = Context.ActorOf(VcpuActor.Props(_vmId, i, config, _warnings), "vcpu-" + i);
    }

    private void Report(IReadOnlyList<WarningLine> lines, RequestTelemetry? telemetry)
    {
        foreach (var line in lines)
            Report(line.Site, line.Text, telemetry);
    }

    private void Report(WarningSite site, string text, RequestTelemetry? telemetry) =>
        _warnings.Tell(new WarningReport(_vmId, _state!.Config.Profile, site, text, telemetry?.TraceParent));

    private static void Reply(IActorRef replyTo, object reply, RequestTelemetry? telemetry, long ret)
    {
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
        if (_state is null || !HekiMetrics.StoreRuns.Enabled)
            return;
        var runs = _state.Memory.Store.RunCount;
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

        _countedProfile = HekiTagValues.Of(_state!.Config.Profile);
        HekiMetrics.ActiveVms.Add(1, new KeyValuePair<string, object?>(HekiTags.Profile, _countedProfile));
        ReportStoreRuns();
    }

    protected override void PostStop()
    {
        // A stop, a destroy or a restart: take back what this incarnation added, so the gauges stay right.
        if (_countedProfile is not null)
        {
            HekiMetrics.ActiveVms.Add(-1, new KeyValuePair<string, object?>(HekiTags.Profile, _countedProfile));
            if (_reportedRuns != 0)
                HekiMetrics.StoreRuns.Add(-_reportedRuns, new KeyValuePair<string, object?>(HekiTags.Profile, _countedProfile));
            _countedProfile = null;
            _reportedRuns = 0;
        }

        base.PostStop();
    }

    private void CountImmutableRejection(string source)
    {
        if (!HekiMetrics.ImmutableRejections.Enabled)
            return;
        var tags = new TagList { { HekiTags.Profile, HekiTagValues.Of(_state!.Config.Profile) }, { HekiTags.Source, source } };
        if (HekiTelemetry.PerVmLabels)
            tags.Add(HekiTags.Vm, _vmId);
        HekiMetrics.ImmutableRejections.Add(1, tags);
    }

    private void CountCrPinBlock(int cr)
    {
        if (!HekiMetrics.CrPinBlocks.Enabled)
            return;
        var tags = new TagList { { HekiTags.Profile, HekiTagValues.Of(_state!.Config.Profile) }, { HekiTags.ControlRegister, HekiTagValues.Cr(cr) } };
        if (HekiTelemetry.PerVmLabels)
            tags.Add(HekiTags.Vm, _vmId);
        HekiMetrics.CrPinBlocks.Add(1, tags);
    }

    private static KeyValuePair<string, object?> ProfileTag(HekiProfile profile) => new(HekiTags.Profile, HekiTagValues.Of(profile));

    private VmStatus Status()
    {
        var state = _state!;
        return new VmStatus(_vmId, state.Config, state.Memory.Store.RunCount, state.Memory.Store.BoundaryCount,
            state.Pins.Cr0, state.Pins.Cr4, _generation, LastSequenceNr);
    }

    /// <summary>A persisted change waiting for every vCPU's shootdown acknowledgement.</summary>
    private sealed class PendingChange(long generation, GfnRange range, IActorRef replyTo, object reply, int vcpus,
        RequestTelemetry? telemetry, long ret, string? shootdownTrace)
    {
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

    private sealed record RetryShootdown(long Generation)
    {
        public const string Key = "retry-shootdown";
    }
}

/// <summary>Tunables of a VM actor.</summary>
/// <param name="SnapshotEvery">Events between snapshots, so recovery replays at most this many.</param>
public sealed record VmActorSettings(int SnapshotEvery = 500)
{
    public static readonly VmActorSettings Default = new();
}

/// <summary>Thrown on purpose by <see cref="CrashVm"/>; supervision restarts the VM, which recovers from its journal.</summary>
public sealed class VmCrashException(string message) : Exception(message);
