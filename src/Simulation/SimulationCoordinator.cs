using System.Diagnostics;
using Akka.Actor;
using HekiActors.Actors.Supervision;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;
using HekiActors.Protocol;
using HekiActors.Observability;

namespace HekiActors.Simulation;

/// <summary>
/// Runs one simulation: boots the VMs' guest kernels a bounded number at a time, starts every VM's rounds once
/// all are up, aggregates their counts and latency histograms, reports progress about twice a second, and
/// replies the <see cref="SimulationResult"/> (with the warning supervisor's emitted/suppressed counts) to
/// whoever sent <see cref="StartSimulation"/>.
/// </summary>
/// <remarks>
/// It always answers, and in bounded time once stopped: a journal failure (<see cref="JournalFailed"/>, which the
/// engine subscribes it to before any VM starts) stops the run; if the VMs' parent or shard region is gone, no VM can
/// answer any more and the result comes at once; otherwise VMs that have not reported <see cref="StopGrace"/> after
/// the stop are left out of the counts.
/// </remarks>
public sealed class SimulationCoordinator : UntypedActor, IWithTimers
{
    /// <summary>How often progress is reported.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a stopped run waits for its VMs' counts before it answers without the missing ones.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly SimulationSpec _spec;
    private IActorRef _vms = ActorRefs.Nobody;
    private IActorRef _warnings = ActorRefs.Nobody;
    private Chaos.SkewedClock? _clock;
    private readonly IProgress<SimulationProgress>? _progress;
    private readonly ISimulationRecorder? _recorder;
    private readonly int _bootConcurrency;
    private readonly ulong _runNonce;
    private long _progressAccesses;
    private long _progressAttackAccesses;
    private long _progressFaulted;
    private long _bootProtectionFailures;
    private SimulationResult? _result;
    private readonly IActorRef?[] _kernels;
    private readonly bool[] _bootedOk;
    private readonly long _startedAt = Stopwatch.GetTimestamp();

    private IActorRef? _replyTo;
    private int _started;
    private int _booted;
    private int _finished;
    private long _bootEndedAt;
    private long _workloadStartedAt;
    private long _endedAt;
    private bool _stopping;
    private string _phase = "boot";
    private long _attacksBlocked;
    private long _attacksSucceeded;
    private readonly VmTotals _totals = new();
    private readonly Dictionary<(string Reason, string Result), (long Vms, int FirstVm)> _bootFailures = [];
    private int _vmsUp;
    private string? _failure;
    private bool _completing;
    // The journal's VMs of an earlier run: destroyed before the boot (--fresh), or taken over by their guests (--resume).
    private readonly IReadOnlyList<string> _destroy;
    private readonly Dictionary<string, Memory.Vm.VmSnapshot> _resume;
    private int _destroying;

    /// <param name="start">What to do first with the VMs an earlier run left in a durable journal (none: nothing).</param>
    public SimulationCoordinator(SimulationSpec spec, IProgress<SimulationProgress>? progress, ISimulationRecorder? recorder, int bootConcurrency,
        ulong runNonce, JournalStart? start = null)
    {
        _destroy = start?.Destroy ?? [];
        _resume = new Dictionary<string, Memory.Vm.VmSnapshot>(start?.Resume ?? JournalStart.None.Resume, StringComparer.Ordinal);
        _runNonce = runNonce;
        _spec = spec;
        _progress = progress;
        _recorder = recorder;
        _bootConcurrency = Math.Max(1, bootConcurrency);
        _kernels = new IActorRef?[spec.Vms];
        _bootedOk = new bool[spec.Vms];
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(SimulationSpec spec, IProgress<SimulationProgress>? progress, ISimulationRecorder? recorder, int bootConcurrency,
        ulong runNonce, JournalStart? start = null) =>
        Akka.Actor.Props.Create(() => new SimulationCoordinator(spec, progress, recorder, bootConcurrency, runNonce, start));

    /// <summary>The VM id of the <paramref name="index"/>-th simulated VM.</summary>
    public static string VmId(int index) => "sim-" + index.ToString("D5", System.Globalization.CultureInfo.InvariantCulture);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case StartSimulation start when _replyTo is null:
                _replyTo = Sender;
                _vms = start.Vms;
                _warnings = start.Warnings;
                _clock = start.Clock;
                Context.Watch(_vms);
                CreateAttackSeries();
                Timers.StartPeriodicTimer("progress", ProgressTick.Instance, ProgressInterval);
                if (_destroy.Count > 0)
                    DestroyEarlierVms();
                else
                    StartBoot();
                break;
            // A VM that does not exist is as gone as a destroyed one (a cluster run clears its ids whether or not an
            // earlier run left them).
            case VmDestroyed or CommandRejected { Code: Memory.RejectionCode.NoSuchVm } when _destroying > 0:
                if (--_destroying == 0)
                    StartBoot();
                break;
            case CommandRejected rejected when _destroying > 0:
                _destroying = 0;
                _failure ??= $"a VM an earlier run left in the journal could not be destroyed (--fresh): {rejected.Reason}";
                Stop();
                break;
            case DestroysOverdue when _destroying > 0:
                _destroying = 0;
                _failure ??= $"the VMs an earlier run left in the journal were not destroyed within {ReplyTimeout.TotalSeconds:0} s (--fresh)";
                Stop();
                break;
            case DestroysOverdue:
                break;
            case JournalFailed failed:
                _failure ??= $"the journal failed for {failed.PersistenceId}: {failed.Reason}";
                Stop();
                break;
            case Terminated terminated when terminated.ActorRef.Equals(_vms):
                // Every VM is reached through it: nothing more will answer.
                _failure ??= "the VM host stopped";
                Stop();
                if (_replyTo is not null && !_completing)
                    RequestWarningStats();
                break;
            case StopGraceOver:
                if (_replyTo is not null && !_completing)
                    RequestWarningStats();
                break;
            case VmBooted or VmFinished when _completing:
                // Too late: the result is on its way without this VM.
                break;
            case VmBooted booted:
                HandleBooted(booted);
                break;
            case RoundDone round:
                _attacksBlocked += round.AttacksBlocked;
                _attacksSucceeded += round.AttacksSucceeded;
                _progressAccesses += round.AttackAccesses;
                _progressAttackAccesses += round.AttackAccesses;
                _progressFaulted += round.AttackViolations;
                break;
            case VmFinished finished:
                HandleFinished(finished);
                break;
            case WarningStats stats:
                Complete(stats);
                break;
            case ProgressTick:
                Report();
                break;
            case WorkloadProgress progress:
                _progressAccesses += progress.Accesses;
                _progressFaulted += progress.Faulted;
                break;
            case StopSimulation:
                Stop();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// <c>--fresh</c>: destroys every VM an earlier run left in the journal, all at once (they share nothing), before the
    /// first boot. Not part of the run: nothing is recorded or counted.
    /// </summary>
    private void DestroyEarlierVms()
    {
        _destroying = _destroy.Count;
        for (var i = 0; i < _destroy.Count; i++)
            _vms.Tell(new DestroyVm(_destroy[i], RequestIds.Derive(0xF4E5, _runNonce, (ulong)i)));
        Timers.StartSingleTimer("destroys", DestroysOverdue.Instance, ReplyTimeout);
    }

    private void StartBoot()
    {
        Timers.Cancel("destroys");
        if (_stopping)
        {
            if (_replyTo is not null && !_completing)
                RequestWarningStats(); // stopped before anything could boot
            return;
        }

        for (var i = 0; i < Math.Min(_bootConcurrency, _spec.Vms); i++)
            BootNext();
    }

    /// <summary>How long <c>--fresh</c> waits for the destroys, as a guest waits for one answer.</summary>
    private static TimeSpan ReplyTimeout => GuestKernelActor.ReplyTimeout;

    private void Stop()
    {
        if (_stopping)
            return;
        _stopping = true;
        for (var i = 0; i < _started; i++)
            _kernels[i]!.Tell(StopGuest.Instance);
        Timers.StartSingleTimer("stop-grace", StopGraceOver.Instance, StopGrace);
        if (_replyTo is not null && _booted == _started && _workloadStartedAt == 0)
            StartWorkload();
    }

    /// <summary>Every attack series at 0 from the start (HekiMetrics.CreateSeries does the model's series).</summary>
    private void CreateAttackSeries()
    {
        if (!HekiMetrics.Attacks.Enabled)
            return;
        var profile = HekiTagValues.Of(_spec.Profile);
        foreach (var kind in AttackKinds.All)
        {
            foreach (var verdict in new[] { HekiTagValues.Blocked, HekiTagValues.Succeeded })
                HekiMetrics.Attacks.Add(0, new System.Diagnostics.TagList { { HekiTags.Profile, profile }, { HekiTags.AttackKind, kind.Name() }, { HekiTags.AttackVerdict, verdict } });
        }
    }

    private void BootNext()
    {
        if (_stopping || _started >= _spec.Vms)
            return;
        var index = _started++;
        // A VM taken over from the journal: its guest holds its state only until it has read it back.
        _resume.Remove(VmId(index), out var resumeFrom);
        var kernel = Context.ActorOf(GuestKernelActor.Props(index, VmId(index), _spec, _vms, Self, _recorder, _runNonce, resumeFrom,
                _spec.Chaos is null ? null : new GuestChaos(_warnings, _clock))
            .WithDispatcher(Context.Props.Dispatcher), "guest-" + index);
        _kernels[index] = kernel;
        kernel.Tell(BootVm.Instance);
    }

    private void HandleBooted(VmBooted booted)
    {
        _booted++;
        // A failed boot is counted from the VM's totals (boot failures); one abandoned by a stop is not a VM that ran.
        if (booted.Error is null && !booted.Stopped)
        {
            _bootedOk[booted.Index] = true;
            _vmsUp++;
        }

        if (booted.Error is not null || booted.ProtectionFailure is not null)
            _bootProtectionFailures++; // the VM runs unprotected (or not at all): counted like the report counts it
        BootNext();
        if (_booted == _started && (_started == _spec.Vms || _stopping))
            StartWorkload();
    }

    private void StartWorkload()
    {
        _bootEndedAt = Stopwatch.GetTimestamp();
        _workloadStartedAt = _bootEndedAt;
        _phase = "run";
        if (_started == 0)
        {
            RequestWarningStats();
            return;
        }

        var started = Context.System.Scheduler.Now - Stopwatch.GetElapsedTime(_workloadStartedAt);
        var schedule = new RunRounds(Math.Max(1, _spec.Rounds), _spec.AccessesPerVcpu, started, _spec.Duration);
        for (var i = 0; i < _started; i++)
            _kernels[i]!.Tell(schedule);
    }

    private void HandleFinished(VmFinished finished)
    {
        var vm = finished.Counts;
        if (vm is { BootFailureReason: { } reason, BootFailureResult: { } result })
        {
            // The example is the lowest-numbered VM of the group, not the first to finish: the same seed gives the same report.
            var (count, first) = _bootFailures.GetValueOrDefault((reason, result), (0L, finished.Index));
            _bootFailures[(reason, result)] = (count + 1, Math.Min(first, finished.Index));
        }

        _totals.Add(vm);
        // The VM stays up until the host is shut down; its guest-kernel actor is no longer needed.
        Context.Stop(Sender);
        if (++_finished == _started)
            RequestWarningStats();
    }

    private void RequestWarningStats()
    {
        _completing = true;
        _endedAt = Stopwatch.GetTimestamp();
        _phase = "done";
        Timers.Cancel("progress");
        // Every warning a VM sent was sent before its last reply: the supervisor's mailbox already holds it.
        _warnings.Tell(GetWarningStats.Instance);
    }

    private void Complete(WarningStats stats)
    {
        var t = _totals;
        var attacks = AttackKinds.All
            .Select(kind => new AttackTally(kind, _spec.Profile, t.Attempted[(int)kind], t.Blocked[(int)kind], t.Succeeded[(int)kind],
                t.Succeeded[(int)kind] > 0 ? t.Why[(int)kind] : null))
            .ToArray();
        var counts = t.Counts with { WarningsEmitted = stats.TotalEmitted, WarningsSuppressed = stats.TotalSuppressed };
        var result = new SimulationResult(
            _spec,
            Elapsed(_startedAt, _endedAt),
            Elapsed(_startedAt, _bootEndedAt == 0 ? _endedAt : _bootEndedAt),
            counts,
            Summary(t.FastPath),
            Summary(t.SlowPath),
            Summary(t.HypercallLatency),
            attacks,
            _bootFailures.Select(f => new BootFailureGroup(f.Key.Reason, f.Key.Result, f.Value.Vms, VmId(f.Value.FirstVm)))
                .OrderByDescending(f => f.Vms).ToArray(),
            VmsBooted: _vmsUp,
            VmsUnfinished: _started - _finished,
            Failure: _failure)
        {
            GuestKernel = GuestKernelReport.Of(_spec, t.Kernel),
            LatencyParts = [.. t.LatencyParts.Select(h => Summary(h))],
            Faults = _spec.Chaos?.Kinds.ToDictionary(kind => kind, kind => t.Faults[(int)kind]),
        };
        _result = result;
        // The last progress line shows the report's own figures (issue 9: they must never disagree).
        Report();
        _replyTo?.Tell(new SimulationFinished(result));
        _replyTo = null;
    }

    private void Report()
    {
        if (_progress is null)
            return;
        double fraction;
        if (_phase == "boot")
            fraction = _spec.Vms == 0 ? 1 : (double)_booted / _spec.Vms;
        else if (_spec.Duration is { } duration && duration > TimeSpan.Zero)
            fraction = Math.Min(1, Elapsed(_workloadStartedAt, Stopwatch.GetTimestamp()) / duration);
        else if (_spec.AccessesPerVcpu is { } perVcpu && perVcpu > 0)
            fraction = Math.Min(1, _progressAccesses / ((double)perVcpu * _spec.VcpusPerVm * Math.Max(1, _started)));
        else
            fraction = 0;
        if (_result is { } r)
        {
            _progress.Report(new SimulationProgress("done", _vmsUp, _spec.Vms, r.Counts.Accesses, r.Counts.Violations,
                r.Counts.AttacksBlocked, r.Counts.AttacksSucceeded, r.Elapsed, 1, r.AccessesPerSecond)
            {
                AttackAccesses = r.Counts.AttackAccesses,
                BootProtectionFailures = r.Counts.BootProtectionFailures,
                Final = r.Counts,
            });
            return;
        }

        _progress.Report(new SimulationProgress(
            _phase, _vmsUp, _spec.Vms, _progressAccesses, _progressFaulted, _attacksBlocked, _attacksSucceeded,
            Elapsed(_startedAt, Stopwatch.GetTimestamp()), fraction)
        {
            AttackAccesses = _progressAttackAccesses,
            BootProtectionFailures = _bootProtectionFailures,
        });
    }

    protected override void PreRestart(Exception reason, object message)
    {
        // A broken coordinator cannot finish the run: fail the caller's request rather than leave it waiting.
        _replyTo?.Tell(new Status.Failure(reason));
        base.PreRestart(reason, message);
    }

    private static LatencySummary Summary(LatencyHistogram histogram) => Summary(histogram.ToSnapshot());

    private static LatencySummary Summary(LatencySnapshot histogram) => histogram.IsEmpty
        ? LatencySummary.Empty
        : new LatencySummary(histogram.Count, histogram.ValueAt(50) / 1000, histogram.ValueAt(90) / 1000,
            histogram.ValueAt(99) / 1000, histogram.Max / 1000.0);

    private static TimeSpan Elapsed(long from, long to) => TimeSpan.FromSeconds((double)(to - from) / Stopwatch.Frequency);

    private sealed class ProgressTick : INoSerializationVerificationNeeded
    {
        public static readonly ProgressTick Instance = new();
    }

    private sealed class StopGraceOver
    {
        public static readonly StopGraceOver Instance = new();
    }

    private sealed class DestroysOverdue : INoSerializationVerificationNeeded
    {
        public static readonly DestroysOverdue Instance = new();
    }
}
