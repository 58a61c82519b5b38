using System.Diagnostics;
using Akka.Actor;
using HekiActors.Protocol;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;
using HekiActors.Simulation.Replay;
using HekiActors.Observability;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Simulation;

/// <summary>
/// The guest kernel (and the attacker inside it) of one simulated VM. Boots its VM through its VM entity
/// (create, protect the layout from vCPU 0, pin CR0.WP and CR4.SMEP|SMAP, set CR0/CR4 on every vCPU), then runs
/// rounds: the kernel's own changes and the round's attacks one at a time, then every vCPU's workload in
/// parallel. Permissions change only between workload phases, so a seed gives the same counts every time.
/// Records each operation it performs, in order, in replay format.
/// </summary>
/// <remarks>
/// A VM an earlier run left in a durable journal is taken over instead (<c>--resume</c>, <see cref="JournalStart"/>): the
/// kernel does not boot (its protections and pins are in force), it reads back what it knows of its memory from the VM as
/// the journal holds it (<see cref="GuestKernel.Resume"/>), and its recording starts with the lines that rebuild that VM
/// (<see cref="ResumeLines"/>), so the recording replays on a fresh model. Any other VM of its id already there is a
/// boot failure: a run never destroys what a journal holds on its own.
/// </remarks>
public sealed partial class GuestKernelActor : UntypedActor, IWithTimers
{
    /// <summary>
    /// How long the kernel waits for the model's answer to one request (create, a hypercall, an access) before it
    /// gives up on its VM: a journal that stopped answering must not hold the run (workload rounds are not bounded
    /// by this; the coordinator's stop grace bounds them).
    /// </summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Workload accesses per vCPU and round written to the recording (regenerated from the seed).</summary>
    public const int SampledAccesses = 2;

    private readonly int _index;
    private readonly string _vmId;
    private readonly SimulationSpec _spec;
    private readonly IActorRef _vms;
    private readonly IActorRef _coordinator;
    private readonly ISimulationRecorder? _recorder;
    private readonly ulong _seed;
    private readonly ulong _runNonce;
    private ulong _requests;
    private readonly GuestKernel _kernel;
    private readonly AttackerModel _attacker;
    private readonly VmTotals _totals = new();

    private IEnumerator<Step>? _steps;
    private Step? _current;
    private Action? _whenDone;
    private GuestRandom _attackRandom;
    // The attack being probed (one at a time), its probes' results so far, and the probes' handler (made once).
    private AttackPlan? _attackPlan;
    private List<OperationResult>? _attackResults;
    private Action<OperationResult>? _attackProbed;
    private RunRounds? _schedule;
    private long _round;
    private int _workloadsRunning;
    private long _roundAccesses;
    private long _roundFaulted;
    private long _roundBlocked;
    private long _roundSucceeded;
    private long _roundAttackAccesses;
    private long _roundViolations;
    private bool _booted;
    private bool _created;
    private bool _stopping;
    private Memory.Vm.VmSnapshot? _resumeFrom;
    private bool _gaveUp; // failed, or stopped while booting: answers still coming are ignored
    private long _awaitingSince; // when the request awaited was sent (a Stopwatch timestamp); 0: none awaited
    private bool _watchdogArmed;
    private object _awaitingWhat = "";
    private bool _finishing;
    private int _countsPending;
    private long _crPinBlocks;
    private long _immutableRejections;
    private long _hostIntegrityFaults;
    private readonly string _profileTag;

    /// <param name="resumeFrom">The VM as a durable journal holds it, to take over instead of creating one (<c>--resume</c>).</param>
    /// <param name="chaos">With the spec's chaos section: what its faults need (null: no faults).</param>
    public GuestKernelActor(int index, string vmId, SimulationSpec spec, IActorRef vms, IActorRef coordinator,
        ISimulationRecorder? recorder, ulong runNonce, Memory.Vm.VmSnapshot? resumeFrom = null, GuestChaos? chaos = null)
    {
        _chaos = chaos;
        if (spec.Chaos is { } faults && chaos is not null)
            _faults = new Chaos.GuestFaults(faults.Plan(spec.Seed), vmId, HekiTagValues.Of(spec.Profile));
        _resumeFrom = resumeFrom;
        _runNonce = runNonce;
        _index = index;
        _vmId = vmId;
        _spec = spec;
        _vms = vms;
        _coordinator = coordinator;
        _recorder = recorder;
        _seed = GuestRandom.Derive(spec.Seed, (ulong)index);
        _kernel = GuestKernels.Create(spec, _seed);
        _attacker = new AttackerModel(_kernel, spec.Profile, spec.Mbec);
        _profileTag = HekiTagValues.Of(spec.Profile);
    }

    public static Props Props(int index, string vmId, SimulationSpec spec, IActorRef vms, IActorRef coordinator,
        ISimulationRecorder? recorder, ulong runNonce, Memory.Vm.VmSnapshot? resumeFrom = null, GuestChaos? chaos = null) =>
        FactoryProps.Create((index, vmId, spec, vms, coordinator, recorder, runNonce, resumeFrom, chaos),
            static a => new GuestKernelActor(a.index, a.vmId, a.spec, a.vms, a.coordinator, a.recorder, a.runNonce, a.resumeFrom, a.chaos));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void OnReceive(object message)
    {
        if (_faults is not null && ReceiveChaos(message))
            return;
        // Answers to the request being awaited (while finishing, a rejection answers the counts instead).
        if (_countsPending == 0 && message is VmCreated or CommandRejected or GuestAccessDone or HypercallDone or CrWriteDone)
        {
            if (_gaveUp)
                return; // A late answer to a request this VM gave up on.
            _awaitingSince = 0;
        }

        switch (message)
        {
            case ReplyOverdue:
                CheckOverdue();
                break;
            case BootVm when _resumeFrom is { } journaled:
                Resume(journaled);
                break;
            case BootVm:
                CreateVm();
                break;
            case VcpuCounts counts:
                CountsReceived(counts);
                break;
            case CommandRejected when _countsPending > 0:
                CountsReceived(null); // the VM is gone: its vCPUs counted nothing we can ask for
                break;
            case VmCreated:
                _created = true;
                _recorder?.Record(ReplayLines.Format(new CreateVmRequest(_vmId, _spec.MemoryMbPerVm, _spec.VcpusPerVm, _spec.Mbec, PrivateMemory: false)));
                Run(_kernel.BootOperations().Select((op, i) => Step.Kernel(op, r => _kernel.BootCompleted(i, r.Value), _kernel.BootTag(i))), BootDone);
                break;
            case CommandRejected rejected when !_booted && _current is null:
                // VmExists: the journal holds a VM of this id that the run was not told to resume or destroy.
                Fail(rejected.Code == RejectionCode.VmExists
                    ? "the journal already holds a VM of this id from an earlier run, which this run was not told to resume or destroy"
                    : rejected.Reason);
                break;
            case CommandRejected rejected:
                Fail($"VM '{_vmId}' rejected {_current?.Operation}: {rejected.Reason}");
                break;
            case GuestAccessDone or HypercallDone or CrWriteDone when _current is not null:
                Completed(message);
                break;
            case StopGuest:
                HandleStop();
                break;
            case RunRounds schedule:
                _schedule = schedule;
                StartRound(0);
                break;
            case WorkloadDone done:
                WorkloadFinished(done);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void CreateVm()
    {
        var config = VmConfig.FromMegabytes(_spec.MemoryMbPerVm, _spec.VcpusPerVm, _spec.Mbec, privateMemory: false, _spec.Profile);
        Send(new CreateVm(_vmId, NextRequestId(), config), changes: true, vmExists: false);
        Await("create_vm");
    }

    private const string AwaitTimer = "reply";

    /// <summary>
    /// Starts the clock on the request just sent (<see cref="ReplyTimeout"/>). One timer a guest, not one a request: a
    /// cancelled timer stays in Akka's timer wheel until its deadline, so a timer per request kept the last minute's
    /// requests' timers alive (six a booted VM, ~1.7 KB; issue 11). The timer checks the request awaited when it fires.
    /// </summary>
    private void Await(object what)
    {
        _awaitingWhat = what;
        _awaitingSince = Stopwatch.GetTimestamp();
        if (_watchdogArmed)
            return;
        _watchdogArmed = true;
        Timers.StartSingleTimer(AwaitTimer, ReplyOverdue.Instance, ReplyTimeout);
    }

    /// <summary>The timer fired: the request awaited now has waited <see cref="ReplyTimeout"/> (this VM fails), or less (wait on).</summary>
    private void CheckOverdue()
    {
        _watchdogArmed = false;
        if (_gaveUp || _awaitingSince == 0)
            return;
        var waited = Stopwatch.GetElapsedTime(_awaitingSince);
        if (waited >= ReplyTimeout)
        {
            Fail($"VM '{_vmId}' did not answer {_awaitingWhat} within {ReplyTimeout.TotalSeconds:0} s");
            return;
        }

        _watchdogArmed = true;
        Timers.StartSingleTimer(AwaitTimer, ReplyOverdue.Instance, ReplyTimeout - waited);
    }

    /// <summary>
    /// Takes over the VM an earlier run left in the journal instead of booting one: records the lines that rebuild it as
    /// the journal holds it, reads back what the kernel knows of its memory, and is up. A VM whose immutable boot
    /// protections are not this kernel's (another kernel, or a boot that failed back then) runs unprotected: a boot failure.
    /// </summary>
    private void Resume(Memory.Vm.VmSnapshot journaled)
    {
        _resumeFrom = null;
        _created = true;
        if (_recorder is not null)
        {
            foreach (var request in ResumeLines.For(_vmId, journaled))
                _recorder.Record(ReplayLines.Format(request, tag: ResumeLines.Tag));
        }

        if (!_kernel.Resume(new ProtectedRuns(journaled.Runs), _spec.Mbec))
            BootProtectionFailed($"the VM resumed from the journal does not hold this kernel's immutable boot protections (booted with another kernel, or its boot protection failed then)",
                HekiTagValues.Rejected);
        BootDone();
    }

    private void BootDone()
    {
        _booted = true;
        _coordinator.Tell(new VmBooted(_index, null, ProtectionFailure: _totals.BootFailure?.Result));
    }

    // ---- rounds -------------------------------------------------------------------------------------------

    private void StartRound(long round)
    {
        var schedule = _schedule!;
        _round = round;
        if (!_booted || round >= schedule.Rounds || _stopping || schedule.Over(Context.System.Scheduler.Now))
        {
            Finish();
            return;
        }

        _roundAccesses = _roundFaulted = _roundBlocked = _roundSucceeded = _roundAttackAccesses = _roundViolations = 0;
        var events = _kernel.EventsForRound(round);
        Run(events.Select(ev => Step.Kernel(ev.Operation, result => _kernel.Completed(ev, result.Value), ev.Tag)), RunAttacks);
    }

    private void RunAttacks()
    {
        _attackRandom = new GuestRandom(GuestRandom.Derive(_seed, 0xA77AC, (ulong)_round));
        Run(AttackSteps(), RunWorkloads);
    }

    /// <summary>
    /// The round's attacks, planned one at a time as the previous one completes (2^31 attacks of a kind cost no
    /// more memory than one), and cut short when the run is stopped or its time is up: a duration bounds every phase.
    /// Plans draw from the round's random stream in the same order as if all were planned first: same seed, same attacks.
    /// </summary>
    private IEnumerable<Step> AttackSteps()
    {
        var schedule = _schedule!;
        var clock = Context.System.Scheduler;
        foreach (var kind in AttackKinds.All)
        {
            for (var n = _spec.Attacks.PerVmPerRound(kind); n > 0; n--)
            {
                if (_stopping || schedule.Over(clock.Now))
                    yield break;
                var plan = _attacker.Plan(kind, ref _attackRandom);
                _attackPlan = plan;
                (_attackResults ??= new List<OperationResult>(2)).Clear();
                // One handler made once and the results in one list (attacks are probed one at a time): a round's
                // thousands of attacks allocate in its hypercall burst, where a collection delays every call (issue 11).
                var probes = plan.Probes;
                for (var p = 0; p < probes.Count; p++)
                    yield return Step.Attack(kind, probes[p], _attackProbed ??= AttackProbed);
            }
        }
    }

    /// <summary>A probe of the attack in progress completed: judged once all of its probes did.</summary>
    private void AttackProbed(OperationResult result)
    {
        var plan = _attackPlan!;
        _attackResults!.Add(result);
        if (_attackResults.Count == plan.Probes.Count)
            Judged(plan.Kind, _attacker.Judge(plan, _attackResults));
    }

    private void Judged(AttackKind kind, AttackVerdict verdict)
    {
        var k = (int)kind;
        if (HekiMetrics.Attacks.Enabled)
            HekiMetrics.Attacks.Add(1, new TagList
            {
                { HekiTags.Profile, _profileTag }, { HekiTags.AttackKind, kind.Name() },
                { HekiTags.AttackVerdict, verdict.Succeeded ? HekiTagValues.Succeeded : HekiTagValues.Blocked },
            });
        _totals.Attempted[k]++;
        if (verdict.Succeeded)
        {
            _totals.Succeeded[k]++;
            _totals.Why[k] ??= verdict.Why;
            _roundSucceeded++;
        }
        else
        {
            _totals.Blocked[k]++;
            _roundBlocked++;
        }
    }

    private void RunWorkloads()
    {
        if (_stopping)
        {
            Finish();
            return;
        }

        var schedule = _schedule!;
        var accesses = schedule.AccessesIn(_round);
        DateTimeOffset? deadline = schedule.Duration is null ? null : schedule.DeadlineOf(_round);
        var workload = _kernel.Workload;
        _workloadsRunning = _spec.VcpusPerVm;
        for (var v = 0; v < _spec.VcpusPerVm; v++)
        {
            var seed = WorkloadSeed(v);
            _vms.Tell(new RunWorkload(_vmId, v, seed, _round, accesses, deadline, workload, _coordinator));
            if (_recorder is not null)
                RecordSamples(v, seed, workload, Math.Min(accesses, SampledAccesses));
        }
    }

    private void WorkloadFinished(WorkloadDone done)
    {
        _roundAccesses += done.Accesses;
        _roundFaulted += done.Faulted;
        if (--_workloadsRunning > 0)
            return;
        _coordinator.Tell(new RoundDone(_index, _round, _roundAccesses, _roundFaulted, _roundBlocked, _roundSucceeded,
            _roundAttackAccesses, _roundViolations));
        StartRound(_round + 1);
    }

    /// <summary>
    /// The VM is done: asks every vCPU for its counts (the figures the metrics were given too), then hands the totals
    /// to the coordinator. A VM that was never created has nothing to ask.
    /// </summary>
    private void Finish()
    {
        if (_finishing)
            return;
        _finishing = true;
        _late.Clear(); // reordered copies still held back are never delivered
        if (!_created)
        {
            SendTotals();
            return;
        }

        _countsPending = _spec.VcpusPerVm;
        for (var v = 0; v < _spec.VcpusPerVm; v++)
            _vms.Tell(new GetVcpuCounts(_vmId, v));
    }

    private void CountsReceived(VcpuCounts? counts)
    {
        if (counts is not null)
            _totals.Add(counts);
        if (--_countsPending == 0)
            SendTotals();
    }

    private void SendTotals()
    {
        _totals.Counts = _totals.Counts.Add(new HekiCounts
        {
            CrPinBlocks = _crPinBlocks,
            ImmutableRejections = _immutableRejections,
            HostIntegrityFaults = _hostIntegrityFaults,
            BootProtectionFailures = _totals.BootFailure is null ? 0 : 1,
            AttacksBlocked = _totals.Blocked.Sum(),
            AttacksSucceeded = _totals.Succeeded.Sum(),
        });
        _totals.Kernel = _kernel.Counters;
        if (_faults is not null)
            _faults.Injected.CopyTo(_totals.Faults, 0);
        _coordinator.Tell(new VmFinished(_index, _totals.ToCounts()));
    }

    /// <summary>
    /// The kernel's boot protection failed (issue 8 item 6): the VM runs unprotected, so this is reported loudly
    /// (count, reason, metric), never only as a failed hypercall among thousands.
    /// </summary>
    private void BootProtectionFailed(string reason, string result)
    {
        if (_totals.BootFailure is not null)
            return; // the first failure says why; the VM is counted once
        _totals.BootFailure = (reason, result);
        if (HekiMetrics.BootProtectionFailures.Enabled)
            HekiMetrics.BootProtectionFailures.Add(1, new TagList { { HekiTags.Profile, _profileTag }, { HekiTags.Reason, result } });
    }

    /// <summary>A request the model refused (a simulation bug, not a guest outcome): this VM stops where it is.</summary>
    private void Fail(string reason)
    {
        if (_gaveUp)
            return;
        _gaveUp = true;
        Timers.Cancel(AwaitTimer);
        _watchdogArmed = false;
        _steps?.Dispose();
        _steps = null;
        _current = null;
        _whenDone = null;
        if (_booted)
        {
            Finish();
            return;
        }

        BootProtectionFailed("the VM could not boot: " + reason, HekiTagValues.Rejected);
        _coordinator.Tell(new VmBooted(_index, reason));
    }

    /// <summary>The round's seed for vCPU <paramref name="vcpu"/>: the workload depends on nothing else.</summary>
    private ulong WorkloadSeed(int vcpu) => GuestRandom.Derive(_seed, 1 + (ulong)vcpu, (ulong)_round);

    private void RecordSamples(int vcpu, ulong seed, WorkloadSpec workload, long count)
    {
        if (count <= 0)
            return;
        var n = (int)count;
        var gpas = new ulong[n];
        var kinds = new AccessKind[n];
        var cpls = new byte[n];
        new WorkloadGenerator(workload, seed).Fill(gpas, kinds, cpls);
        for (var i = 0; i < n; i++)
            _recorder!.Record(ReplayLines.Format(new AccessRequest(_vmId, vcpu, gpas[i], kinds[i], cpls[i]), tag: new ReplayTag("sample")));
    }

    private void HandleStop()
    {
        if (_stopping)
            return;
        _stopping = true;
        if (!_booted && !_gaveUp)
        {
            // Stopped while booting: the run reports the VMs that are up, without waiting for this one's answers (a busy
            // journal can take seconds); answers that still come are ignored.
            _gaveUp = true;
            Timers.Cancel(AwaitTimer);
            _watchdogArmed = false;
            _steps?.Dispose();
            _steps = null;
            _current = null;
            _whenDone = null;
            _coordinator.Tell(new VmBooted(_index, null, Stopped: true));
            return;
        }

        // Running workloads end at their next chunk and reply as usual; the round then finishes the run.
        if (_workloadsRunning > 0)
            for (var v = 0; v < _spec.VcpusPerVm; v++)
                _vms.Tell(new StopWorkload(_vmId, v));
    }

    // ---- one operation at a time --------------------------------------------------------------------------

    /// <summary>Sends <paramref name="steps"/> one at a time, each drawn only when the previous one completed.</summary>
    private void Run(IEnumerable<Step> steps, Action whenDone)
    {
        _steps = steps.GetEnumerator();
        _whenDone = whenDone;
        SendNext();
    }

    private void SendNext()
    {
        if (_steps?.MoveNext() == true)
        {
            var step = _steps.Current;
            _current = step;
            Send(step.Operation.ToCommand(_vmId, NextRequestId()), changes: step.Operation is not AccessOperation, vmExists: true);
            Await(step.Operation);
            return;
        }

        _steps?.Dispose();
        _steps = null;
        var whenDone = _whenDone!;
        _whenDone = null;
        whenDone();
    }

    private void Completed(object reply)
    {
        var step = _current!.Value;
        _current = null;
        var result = step.Operation.ResultOf(reply);
        if (step.Operation is ProtectOperation or LockCrOperation)
        {
            if (result.Value == Errno.EPERM && step.Operation is ProtectOperation { Cpl: 0 })
                _immutableRejections++;
            if (reply is HypercallDone { HostIntegrityFaults: > 0 } faulted)
                _hostIntegrityFaults += faulted.HostIntegrityFaults;
            if (!_booted && step.AttackKind is null && result.Value < 0)
                BootProtectionFailed(BootFailureReason(step.Operation, result.Value), Errno.Name(result.Value));
        }

        if (step.Operation is WriteCrOperation && !result.Completed)
        {
            _crPinBlocks++;
            _roundViolations++;
        }

        if (step.Operation is AccessOperation)
        {
            _roundAttackAccesses++;
            if (result.AccessResult == AccessResult.PageFault)
                _roundViolations++;
        }
        _recorder?.Record(ReplayLines.Format(step.Operation.ToRequest(_vmId), result.ToReplayResult(), step.Tag));
        step.OnResult?.Invoke(result);
        SendNext();
    }

    /// <summary>Why a boot hypercall failed, in words a user can act on.</summary>
    private string BootFailureReason(GuestOperation operation, long ret)
    {
        var errno = "-" + Errno.Name(ret).ToUpperInvariant();
        if (operation is ProtectOperation protect)
        {
            var pages = protect.ListPages.Length;
            return ret == Errno.E2BIG && pages > ProtectMemory.MaxListPages
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"PROTECT_MEMORY returned {errno}: the boot list needs {pages:N0} list pages ({_spec.MemoryMbPerVm:N0} MiB of guest memory); hardened refuses more than {ProtectMemory.MaxListPages:N0}")
                : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"PROTECT_MEMORY returned {errno} for the boot list ({pages:N0} list pages)");
        }

        return $"LOCK_CR_UPDATE returned {errno} at boot";
    }

    // From this VM's seed and the run's nonce: a run on a durable journal must not be answered from an earlier
    // run's record of "the same" request.
    private Guid NextRequestId() => RequestIds.Derive(_seed, _runNonce, ++_requests);

    /// <summary>One operation to send, what to do with its result, and how to tag its recorded line.</summary>
    private readonly record struct Step(GuestOperation Operation, Action<OperationResult>? OnResult, AttackKind? AttackKind, ReplayTag? Tag)
    {
        public static Step Kernel(GuestOperation op, Action<OperationResult>? onResult, string? eventName = null) =>
            new(op, onResult, null, eventName is null ? null : new ReplayTag("event", eventName));

        public static Step Attack(AttackKind kind, GuestOperation op, Action<OperationResult> onResult) =>
            new(op, onResult, kind, new ReplayTag("attack", kind.Name()));
    }

    /// <summary>Time to check whether the request awaited has waited <see cref="ReplyTimeout"/> for its answer.</summary>
    private sealed record ReplyOverdue
    {
        public static readonly ReplyOverdue Instance = new();
    }
}
