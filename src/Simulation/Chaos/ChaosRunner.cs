using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using HekiActors.Actors;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// Runs a chaos run on a real <see cref="HekiHost"/>: each VM performs its <see cref="ChaosWorkload"/> one operation
/// at a time, as a guest and its VMM would, with the faults the <see cref="FaultPlan"/> decides for each operation
/// injected around it; every acknowledged result goes to the <see cref="InvariantOracle"/>. Requests carry ids, so
/// a sender that got no reply resends the same request, and a duplicate must be answered from the VM's record.
/// </summary>
public static class ChaosRunner
{
    /// <summary>Operations kept per VM for reproducers (a VM's life is shorter: <see cref="ChaosWorkload.Lifetime"/>).</summary>
    private const int MaxScript = 4 * ChaosWorkload.Lifetime;

    public static async Task<ChaosResult> RunAsync(ChaosSpec spec, IProgress<ChaosProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.SqlitePath is not null && FaultKinds.All.Any(k => k.IsJournalFault() && spec.Faults.RateOf(k) > 0))
            throw new ArgumentException("journal faults need the in-memory chaos journal, not --sqlite-path", nameof(spec));
        var clock = new SkewedClock();
        using var log = spec.AcknowledgementLog is { } logPath ? AcknowledgementLog.Open(logPath) : null;
        var state = new RunState(spec, log);
        var options = new HekiHostOptions(
            Journal: spec.SqlitePath is null ? JournalKind.InMemory : JournalKind.Sqlite,
            SqlitePath: spec.SqlitePath,
            Clock: clock,
            WarningSink: new OracleWarningSink(state),
            AkkaLogLevel: "OFF",
            SystemName: "heki-chaos",
            VmSettings: VmActorSettings.Default with { Planted = spec.Planted },
            Config: spec.SqlitePath is null ? ConfigurationFactory.ParseString(ChaosJournal.Config) : null);
        if (spec.Cluster is { } cluster)
        {
            if (spec.SqlitePath is not null || spec.AcknowledgementLog is not null)
                throw new ArgumentException("a run against a cluster keeps no local journal or acknowledgement log", nameof(spec));
            var local = FaultKinds.All.Where(k => !k.ReachesCluster() && spec.Faults.RateOf(k) > 0).Select(k => k.Name()).ToList();
            if (local.Count > 0)
                throw new ArgumentException($"{string.Join(", ", local)} cannot be injected into a cluster from its client", nameof(spec));
            // The client's verdicts count as the nodes' do (it may be the cluster's leader): it gets their settings.
            options = ClusterClient.Options(options with { Config = null }, cluster.Seeds[0], cluster.NodesConfig, cluster.Seeds);
        }

        // Not cancelled half-way (a stop that comes while the host starts would surface as an exception, not a report): the
        // start is bounded, and a stop already requested ends the run at its first step with what it checked (nothing).
        var host = await HekiHost.StartAsync(options, CancellationToken.None).ConfigureAwait(false);
        await using (host.ConfigureAwait(false))
        {
            var journal = JournalFaults.Get(host.System);
            NodeFaultInjector? nodeFaults = null;
            if (spec.Cluster is { } joined)
            {
                try
                {
                    await ClusterClient.WaitUntilUpAsync(host, joined.Seeds[0], cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Stopped while joining: the run ends at its first step, with its (empty) report.
                    return state.Result(TimeSpan.Zero);
                }

                // The cluster's journal outlives runs: the VMs of this run's ids an earlier run left there go first.
                await DestroyEarlierVmsAsync(spec, host).ConfigureAwait(false);
                if (joined is { Nodes: { } nodes, NodeFaults: { } plan })
                    nodeFaults = new NodeFaultInjector(nodes, plan, host, joined.Narrate);
            }

            var stopwatch = Stopwatch.StartNew();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (spec.Duration is { } duration)
                stop.CancelAfter(duration);
            var reporting = ReportProgress(state, stopwatch, progress, nodeFaults, stop.Token);
            var injecting = nodeFaults?.RunAsync(stop.Token, cancellationToken) ?? Task.CompletedTask;
            var vms = Enumerable.Range(0, spec.Vms)
                .Select(i => Task.Run(() => new VmDriver(spec, state, host, journal, clock, i).RunAsync(stop.Token), CancellationToken.None))
                .ToArray();
            await Task.WhenAll(vms).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await injecting.ConfigureAwait(false);
            await reporting.ConfigureAwait(false);
            journal.Clear();
            await host.FlushWarnings().ConfigureAwait(false);
            var result = state.Result(stopwatch.Elapsed);
            if (spec.Cluster is null)
                return result;
            var counts = await ClusterClient.NodeCountsAsync(host).ConfigureAwait(false);
            return result with
            {
                NodeCounts = counts,
                NodeFaults = nodeFaults?.Counts() ?? [],
                NodeFaultProblem = nodeFaults?.Problem,
            };
        }
    }

    /// <summary>Destroys the run's VM ids (<c>chaos-N</c>) in a cluster's journal, each resent until answered (bounded).</summary>
    private static async Task DestroyEarlierVmsAsync(ChaosSpec spec, HekiHost host)
    {
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(Enumerable.Range(0, spec.Vms).Select(async i =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                // An id of its own (never answered from another run's record); VmDestroyed or "no such VM" both do.
                var destroy = new DestroyVm(VmDriver.VmId(i), Guid.NewGuid());
                for (var attempt = 0; attempt <= spec.Resends; attempt++)
                {
                    try
                    {
                        await host.Ask(destroy, spec.Timeout).ConfigureAwait(false);
                        return;
                    }
                    catch (AskTimeoutException)
                    {
                        // A node busy starting its shards: resend.
                    }
                }

                throw new TimeoutException($"the cluster did not answer the destroy of {destroy.VmId} (an earlier run's VM) after {spec.Resends} resends");
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
    }

    private static async Task ReportProgress(RunState state, Stopwatch stopwatch, IProgress<ChaosProgress>? progress, NodeFaultInjector? nodeFaults,
        CancellationToken token)
    {
        if (progress is null)
            return;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                progress.Report(state.Progress(stopwatch.Elapsed) with { NodeFaults = nodeFaults?.Injected ?? 0 });
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    /// <summary>Everything the VM drivers share, behind one lock (the oracle is single-threaded).</summary>
    private sealed class RunState
    {
        /// <summary>
        /// Mixed into a cluster run's request ids: the cluster's journal outlives runs, and a VM answers a request id it
        /// recorded from that record even after a destroy and a new create, so a second run with the same seed would be
        /// answered from the first run's records. The faults stay decided by the seed's ids (the same seed, the same faults).
        /// </summary>
        public readonly ulong ClusterNonce = BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

        private readonly Lock _gate = new();
        private readonly ChaosSpec spec;
        private readonly AcknowledgementLog? _log;
        private readonly InvariantOracle _oracle;
        private readonly ChaosTelemetry.OraclePublisher _published;
        private readonly string _profileTag;
        private readonly long[] _faults = new long[FaultKinds.All.Length];
        private readonly Dictionary<(Invariant, Defect), CapturedFinding> _captured = new();
        private readonly Dictionary<int, long> _resumeAt = new();
        private readonly int _restarts;
        private long _operations;
        private long _unanswered;
        private long _probes;

        /// <summary>
        /// With an acknowledgement log that holds an earlier process's run (killed), the oracle is rebuilt from every
        /// operation it acknowledged, in order, and each VM resumes after its last acknowledged operation.
        /// </summary>
        public RunState(ChaosSpec spec, AcknowledgementLog? log)
        {
            this.spec = spec;
            _log = log;
            _oracle = new InvariantOracle(spec.Profile);
            _published = new ChaosTelemetry.OraclePublisher(spec.Profile);
            _profileTag = Observability.HekiTagValues.Of(spec.Profile);
            ChaosTelemetry.CreateFaultSeries(spec.Faults, _profileTag);
            if (spec.AcknowledgementLog is not { } path)
                return;
            var earlier = AcknowledgementLog.Read(path);
            // The counters give the run's totals, as the report does: what the killed processes counted is added first.
            foreach (var (kind, count) in earlier.Faults)
            {
                _faults[(int)kind] = count;
                ChaosTelemetry.Injected(kind, _profileTag, count);
            }
            foreach (var entry in earlier.Operations)
            {
                _oracle.Observe(entry.Request, entry.Result);
                if (entry.Probe)
                {
                    // A probe carries the number of the operation it followed, which may be one its process never got
                    // answered (and so never logged): resuming after it would skip that operation, which the VM may have
                    // applied, and leave the oracle without it.
                    _probes++;
                    continue;
                }

                _operations++;
                _resumeAt[entry.Vm] = Math.Max(_resumeAt.GetValueOrDefault(entry.Vm), entry.Operation);
            }

            _published.Publish(_oracle);
            _restarts = earlier.Starts;
            foreach (var finding in _oracle.Findings)
                _captured.TryAdd(finding.Kind, new CapturedFinding(finding, []));
            log?.Started(earlier.Starts);
        }

        public PlantedBug Planted => spec.Planted;

        /// <summary>How many processes ran this journal's chaos run before this one (0: none).</summary>
        public int EarlierStarts => _restarts;

        /// <summary>The last operation of VM <paramref name="vm"/> an earlier process acknowledged (0: none).</summary>
        public long ResumeAt(int vm) => _resumeAt.GetValueOrDefault(vm);

        /// <summary>Reads and refused writes that show whether every acknowledged protection and pin of a VM is in force.</summary>
        public IReadOnlyList<ReplayRequest> InForceProbes(string vm)
        {
            lock (_gate)
                return _oracle.InForceProbes(vm, ChaosWorkload.WindowStart, ChaosWorkload.WindowStart + ChaosWorkload.WindowPages);
        }

        public void Injected(FaultKind kind)
        {
            Interlocked.Increment(ref _faults[(int)kind]);
            ChaosTelemetry.Injected(kind, _profileTag);
            _log?.Injected(kind);
        }

        public void Unanswered() => Interlocked.Increment(ref _unanswered);

        public void Observe(int vm, long operation, ReplayRequest request, Answer answer, List<ReplayRequest> script, bool probe = false)
        {
            lock (_gate)
            {
                if (!probe)
                    _operations++;
                var before = _oracle.Findings.Count;
                if (answer.Second is { } second)
                    _oracle.AnsweredTwice(request, answer.Result, second);
                _oracle.Observe(request, answer.Result, answer.Refusal);
                if (!answer.Result.IsError)
                    _log?.Acknowledged(vm, operation, request, answer.Result, probe);
                _published.Publish(_oracle);
                for (var i = before; i < _oracle.Findings.Count; i++)
                {
                    var finding = _oracle.Findings[i];
                    if (!_captured.ContainsKey(finding.Kind))
                        _captured[finding.Kind] = new CapturedFinding(finding, [.. script]);
                }
            }
        }

        /// <summary>A probe's answer: checked like an operation, counted as a check after a restart.</summary>
        public void Probed(int vm, long operation, ReplayRequest probe, Answer answer)
        {
            Interlocked.Increment(ref _probes);
            Observe(vm, operation, probe, answer, [], probe: true);
        }

        public void WarningDecided(string vmId, WarningSite site, bool printed, long timestamp, long frequency)
        {
            lock (_gate)
            {
                var before = _oracle.Findings.Count;
                _oracle.WarningDecided(vmId, site, printed, timestamp, frequency);
                _published.Publish(_oracle);
                for (var i = before; i < _oracle.Findings.Count; i++)
                    _captured.TryAdd(_oracle.Findings[i].Kind, new CapturedFinding(_oracle.Findings[i], []));
            }
        }

        public void WarningLimitsReset(string vmId)
        {
            lock (_gate)
                _oracle.WarningLimitsReset(vmId);
        }

        public ChaosProgress Progress(TimeSpan elapsed)
        {
            lock (_gate)
                return new ChaosProgress(elapsed, _operations, _faults.Sum(), _oracle.Violations, _oracle.FindingCounts.Values.Sum());
        }

        public ChaosResult Result(TimeSpan elapsed)
        {
            lock (_gate)
            {
                return new ChaosResult(spec.Profile, spec.Seed, elapsed, _operations, _unanswered,
                    FaultKinds.All.ToDictionary(k => k, k => _faults[(int)k]),
                    Enum.GetValues<Invariant>().ToDictionary(i => i, _oracle.Checks),
                    new Dictionary<(Invariant, Defect), long>(_oracle.FindingCounts),
                    [.. _captured.Values.OrderBy(c => c.Finding.Operation)])
                {
                    Restarts = _restarts,
                    ProbesAfterRestart = _probes,
                };
            }
        }
    }

    /// <summary>Hands each rate-limited decision to the oracle (and carries a planted bug to the supervisor).</summary>
    private sealed class OracleWarningSink(RunState state) : IWarningSink, IWarningDecisionObserver, IPlantedBugCarrier
    {
        public PlantedBug Planted => state.Planted;

        public void Write(string line)
        {
            // The lines themselves are not needed: the decisions are.
        }

        public void Decided(string vmId, HekiProfile profile, WarningSite site, bool printed, long timestamp, long frequency) =>
            state.WarningDecided(vmId, site, printed, timestamp, frequency);

        public void LimitsReset(string vmId) => state.WarningLimitsReset(vmId);
    }

    /// <summary>One VM's guest and VMM: its operations in order, each with its faults, resent until answered.</summary>
    private sealed class VmDriver(ChaosSpec spec, RunState state, HekiHost host, JournalFaults journal, SkewedClock clock, int index)
    {
        private readonly string _vm = VmId(index);
        private readonly List<ReplayRequest> _script = [];
        private readonly List<(long Due, object Message)> _late = [];
        private readonly ulong _nonce = (ulong)index;
        private long _operation;
        private ulong _probeWrites;
        // A change of this VM went unanswered for the whole of its window: the oracle no longer knows what is in force.
        private bool _outcomeUnknown;
        private CancellationToken _stopping;

        private const ulong ProbeNonceTag = 0xB0BEUL << 48;

        private FaultPlan Plan => spec.Faults;

        /// <summary>The id of the run's VM number <paramref name="index"/>.</summary>
        public static string VmId(int index) => "chaos-" + index;

        public async Task RunAsync(CancellationToken token)
        {
            var workload = new ChaosWorkload(spec.Seed, index, _vm, spec.VcpusPerVm, spec.MemoryMbPerVm);
            // After a killed process: the operations it acknowledged are done; the next one may have been applied
            // unanswered, so it is sent again with its id (answered from the VM's record if so), and only then is
            // every acknowledged change probed.
            _stopping = token;
            var resumeAt = state.ResumeAt(index);
            while (_operation < resumeAt)
                Next(workload);
            while (!token.IsCancellationRequested && (spec.OperationsPerVm is not { } max || _operation < max))
            {
                var request = Next(workload);
                if (request is DestroyVmRequest)
                    _late.Clear(); // a stale copy of an earlier incarnation's request: see docs/chaos.md, "Known limits"
                var answer = await PerformAsync(request).ConfigureAwait(false);
                state.Observe(index, _operation, request, answer, _script);
                // Whatever this VM answers next could not be checked: it is left alone (a restarted process resends the
                // change, which is not in the log, and learns its answer).
                if (_outcomeUnknown)
                    return;
                DeliverLate();
                if (resumeAt > 0 && _operation == resumeAt + 1)
                    await ProbeAsync().ConfigureAwait(false);
            }
        }

        private ReplayRequest Next(ChaosWorkload workload)
        {
            var request = workload.Next();
            _operation++;
            if (request is CreateVmRequest)
                _script.Clear();
            if (_script.Count < MaxScript)
                _script.Add(request);
            return request;
        }

        /// <summary>Every acknowledged protection, register and pin of the VM, read back (and pinned bits tried) through the oracle.</summary>
        private async Task ProbeAsync()
        {
            foreach (var probe in state.InForceProbes(_vm))
            {
                // A probe's write is new in every process (never answered from an earlier one's record): its ids come
                // from a nonce of their own, apart from the operations' (the VM index) and per start of the run.
                var requestId = probe is WriteCrRequest
                    ? RequestIds.Derive(spec.Seed, ProbeNonceTag | ((ulong)(uint)state.EarlierStarts << 32) | (uint)index, ++_probeWrites)
                    : Guid.Empty;
                var answer = await AskResendingAsync(ReplayMessages.ToMessage(probe, spec.Profile, requestId), change: requestId != Guid.Empty)
                    .ConfigureAwait(false);
                state.Probed(index, _operation, probe, answer);
                if (_outcomeUnknown)
                    return;
            }
        }

        private async Task<Answer> PerformAsync(ReplayRequest request)
        {
            var mutating = request is not (GetPermissionsRequest or GetMemoryAttributesRequest or AccessRequest or ReadCrRequest);
            var identity = mutating ? RequestIds.Derive(spec.Seed, _nonce, (ulong)_operation) : FaultPlan.IdentityOf(_vm, _operation);
            var requestId = !mutating ? Guid.Empty
                : spec.Cluster is null ? identity
                : RequestIds.Derive(spec.Seed ^ state.ClusterNonce, _nonce, (ulong)_operation);
            var message = ReplayMessages.ToMessage(request, spec.Profile, requestId);
            var alive = request is not CreateVmRequest;
            if (alive)
                await BeforeAsync(identity, mutating).ConfigureAwait(false);

            if (Plan.Hits(FaultKind.Delay, identity))
            {
                state.Injected(FaultKind.Delay);
                await Task.Delay(TimeSpan.FromMilliseconds(1 + Plan.Parameter(FaultKind.Delay, identity, 20))).ConfigureAwait(false);
            }

            if (Plan.Hits(FaultKind.DropRequest, identity))
            {
                // Lost on the way: the sender hears nothing, waits, and resends it.
                state.Injected(FaultKind.DropRequest);
                await Task.Delay(TimeSpan.FromMilliseconds(1 + Plan.Parameter(FaultKind.DropRequest, identity, 10))).ConfigureAwait(false);
            }

            if (Plan.Hits(FaultKind.DropReply, identity))
            {
                // Delivered, but its reply is lost: the sender resends the same request.
                state.Injected(FaultKind.DropReply);
                Vms.Tell(message, ActorRefs.Nobody);
            }

            if (alive && mutating && request is not DestroyVmRequest && Plan.Hits(FaultKind.Reorder, identity))
            {
                // A copy arrives later, after operations sent after it: it must change nothing then. (Not for a create
                // or a destroy: a stale create after its VM's destroy would start a new VM, see docs/chaos.md.)
                state.Injected(FaultKind.Reorder);
                _late.Add((_operation + 1 + (long)Plan.Parameter(FaultKind.Reorder, identity, 5), message));
            }

            if (Plan.Hits(FaultKind.Duplicate, identity))
            {
                state.Injected(FaultKind.Duplicate);
                var first = AskResendingAsync(message, mutating);
                var second = AskResendingAsync(message, mutating);
                var answers = await Task.WhenAll(first, second).ConfigureAwait(false);
                // Both copies carry one id: the oracle holds them to one answer (a read may differ: it is not a change).
                return mutating ? answers[0] with { Second = answers[1].Result } : answers[0];
            }

            return await AskResendingAsync(message, mutating).ConfigureAwait(false);
        }

        /// <summary>Crashes, clock skew and armed journal faults that hit just before the operation.</summary>
        private async Task BeforeAsync(Guid identity, bool mutating)
        {
            var persistenceId = VmActor.PersistenceIdFor(_vm);
            if (Plan.Hits(FaultKind.ClockSkew, identity))
            {
                state.Injected(FaultKind.ClockSkew);
                var millis = (long)Plan.Parameter(FaultKind.ClockSkew, identity, 12_000) - 6_000;
                clock.Jump(TimeSpan.FromMilliseconds(millis));
            }

            if (Plan.Hits(FaultKind.CrashWarnings, identity))
            {
                state.Injected(FaultKind.CrashWarnings);
                host.Warnings.Tell(new CrashWarningSupervisor("chaos"));
            }

            if (Plan.Hits(FaultKind.CrashVcpu, identity))
            {
                state.Injected(FaultKind.CrashVcpu);
                Vms.Tell(new CrashVcpu(_vm, (int)Plan.Parameter(FaultKind.CrashVcpu, identity, (ulong)spec.VcpusPerVm), "chaos"), ActorRefs.Nobody);
            }

            if (Plan.Hits(FaultKind.JournalRecoveryFailure, identity))
            {
                // The VM's next recovery fails once: crash it so that it recovers now.
                state.Injected(FaultKind.JournalRecoveryFailure);
                journal.Arm(persistenceId, new ArmedJournalFault(JournalFault.RecoveryFailure, TimeSpan.Zero));
                Vms.Tell(new CrashVm(_vm, "chaos"), ActorRefs.Nobody);
            }
            else if (Plan.Hits(FaultKind.CrashVm, identity))
            {
                state.Injected(FaultKind.CrashVm);
                Vms.Tell(new CrashVm(_vm, "chaos"), ActorRefs.Nobody);
            }

            if (mutating && Plan.Hits(FaultKind.JournalWriteFailure, identity))
            {
                state.Injected(FaultKind.JournalWriteFailure);
                journal.Arm(persistenceId, new ArmedJournalFault(JournalFault.WriteFailure, TimeSpan.Zero));
            }

            if (mutating && Plan.Hits(FaultKind.JournalStall, identity))
            {
                state.Injected(FaultKind.JournalStall);
                journal.Arm(persistenceId, new ArmedJournalFault(JournalFault.WriteStall,
                    TimeSpan.FromMilliseconds(1 + Plan.Parameter(FaultKind.JournalStall, identity, 50))));
            }

            await Task.CompletedTask.ConfigureAwait(false);
        }

        /// <summary>
        /// Asks, and resends the same request (same id) until answered (<see cref="Resending"/>: a change for much longer than
        /// a read); a request never answered is an error, and a change never answered leaves this VM's state unknown.
        /// </summary>
        private async Task<Answer> AskResendingAsync(object message, bool change)
        {
            var resends = change ? spec.ChangeResends : spec.Resends;
            var reply = await Resending.AskAsync(() => host.Ask(message, spec.Timeout), resends, spec.Resends, _stopping).ConfigureAwait(false);
            if (reply is not null)
                return new Answer(ReplayMessages.ResultOf(reply), (reply as CommandRejected)?.Code);
            state.Unanswered();
            _outcomeUnknown |= change;
            return new Answer(new ErrorResult($"no answer after {resends} resends"), null);
        }

        private void DeliverLate()
        {
            for (var i = _late.Count - 1; i >= 0; i--)
            {
                if (_late[i].Due > _operation)
                    continue;
                Vms.Tell(_late[i].Message, ActorRefs.Nobody);
                _late.RemoveAt(i);
            }
        }

        private IActorRef Vms => host.Vms;
    }
}

/// <summary>
/// What the model answered one operation: the result, the refusal's code when it refused (an answer too: "no such VM"
/// for a VM whose create was acknowledged is a lost change), and a duplicate's second answer.
/// </summary>
internal sealed record Answer(ReplayResult Result, RejectionCode? Refusal, ReplayResult? Second = null);

/// <summary>A chaos run's progress: what the report will say, so far.</summary>
public sealed record ChaosProgress(TimeSpan Elapsed, long Operations, long FaultsInjected, long Violations, long Findings)
{
    /// <summary>Node faults injected so far (against a cluster of the run's own nodes).</summary>
    public long NodeFaults { get; init; }
}
