using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Vcpu.Enforcement;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Vcpu.Translation;

namespace HekiActors.Vcpu;

/// <summary>
/// One virtual CPU. Executes guest operations: accesses against its cached translations (the fast path sends
/// no message), misses through its VM (the slow path), hypercalls and CR writes through its VM. Handles every
/// shootdown promptly in any state and acknowledges it, so a VM can acknowledge a change only after no vCPU can
/// still use a translation the change contradicts (heki-semantics.md §6, last rule).
/// </summary>
public sealed partial class VcpuActor : UntypedActor, IWithUnboundedStash
{
    /// <summary>Control registers CR0..CR15 exist; only CR0 and CR4 can be pinned.</summary>
    public const int ControlRegisterCount = CrPinning.ControlRegisterCount;

    private readonly string _vmId;
    private readonly int _index;
    private readonly VmConfig _config;
    private readonly IActorRef _warnings;
    private readonly TranslationCache _translations = new();
    private readonly PermissionTable _permissionTable;
    private readonly ulong[] _controlRegisters = new ulong[ControlRegisterCount];
    // Made when first needed (a restart): a logger formats the actor's path into its log source, for 20,000 vCPUs a
    // 10,000-VM boot (issue 11).
    private ILoggingAdapter? _log;
    private readonly string _profileTag;

    private State _state = State.Attaching;
    private long _generation;
    private PendingAccesses? _pendingAccesses;
    // A single access's buffers, reused: an attack round sends thousands of single accesses (issue 11: 2.7 MB a run).
    private PendingAccesses? _singleAccess;
    private IActorRef? _pendingReplyTo;

    // Counts and latencies in the vocabulary's terms (VcpuCounters), kept with telemetry on or off.
    private readonly VcpuCounters _counters = new();

    // Telemetry (docs/observability.md): counts per batch and origin, the miss being served, the fast-path span countdown.
    private readonly AccessTally?[] _tallies = new AccessTally?[HekiTagValues.Origins.Length];
    private long _missStartedAt;
    private int _fastPathCountdown;
    private int _slowPathSpanCountdown;
    private int _violationSpanCountdown;
    private bool _counted;

    public VcpuActor(string vmId, int index, VmConfig config, IActorRef warnings)
    {
        _vmId = vmId;
        _index = index;
        _config = config;
        _warnings = warnings;
        _permissionTable = new PermissionTable(config.Mbec, config.Profile);
        _profileTag = HekiTagValues.Of(config.Profile);
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(string vmId, int index, VmConfig config, IActorRef warnings) =>
        FactoryProps.Create((vmId, index, config, warnings), static a => new VcpuActor(a.vmId, a.index, a.config, a.warnings));

    private enum State
    {
        Attaching,
        Running,
        AwaitingTranslation,

        /// <summary>A workload's translation is filled; the chunk resumes at the missed access in the vCPU's next turn.</summary>
        Resuming,
        AwaitingVm,
    }

    protected override void PreStart()
    {
        // A fresh or restarted vCPU has no translations and must learn its CRs before running the guest.
        Context.Parent.Tell(new VcpuAttach(_index));
        // Counted per incarnation: a restart runs PostStop then PreStart, so the gauge stays right.
        if (HekiMetrics.ActiveVcpus.Enabled)
        {
            _counted = true;
            HekiMetrics.ActiveVcpus.Add(1, new KeyValuePair<string, object?>(HekiTags.Profile, _profileTag));
        }
    }

    protected override void PostStop()
    {
        if (_counted)
        {
            _counted = false;
            HekiMetrics.ActiveVcpus.Add(-1, new KeyValuePair<string, object?>(HekiTags.Profile, _profileTag));
        }

        base.PostStop();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            // Always handled, in every state: a VM waits on these acknowledgements.
            case Shootdown shootdown:
                HandleShootdown(shootdown);
                return;
            case VcpuState state when _state == State.Attaching:
                HandleAttached(state);
                return;
            case TranslationFill fill when _state == State.AwaitingTranslation:
                HandleTranslationFill(fill);
                return;
            case ResumeWorkload when _state == State.Resuming:
                _state = State.AwaitingTranslation; // RunAccesses goes on from the miss (and Becomes what follows)
                RunAccesses();
                return;
            case HypercallServed served when _state == State.AwaitingVm:
                FinishVmCall(served);
                return;
            case CrWriteResult result when _state == State.AwaitingVm:
                FinishCrWrite(result);
                return;
        }

        if (_state != State.Running)
        {
            Stash.Stash();
            return;
        }

        switch (message)
        {
            case GuestAccessBatch batch:
                if (BatchProblem(batch) is { } problem)
                    Sender.Tell(new CommandRejected(RejectionCode.InvalidRequest, problem));
                else
                    StartAccesses(new PendingAccesses(batch, Sender));
                break;
            case GuestAccess { Cpl: > 3 } access:
                Sender.Tell(new CommandRejected(RejectionCode.InvalidRequest, $"CPL {access.Cpl} does not exist (a CPL is 0..3)"));
                break;
            case GuestAccess access:
                // One access at a time (others wait stashed until it is answered): the same buffers each time.
                StartAccesses((_singleAccess ??= PendingAccesses.Single()).Reset(access, Sender));
                break;
            case GuestProtectMemory protect:
                HandleProtectMemory(protect);
                break;
            case GuestLockCr lockCr:
                HandleLockCr(lockCr.RequestId, lockCr.Cr, lockCr.Pin, lockCr.Flags, lockCr.Cpl, lockCr.TraceParent);
                break;
            case GuestHypercall call:
                HandleHypercall(call);
                break;
            case GuestWriteCr write:
                HandleWriteCr(write);
                break;
            case GuestReadCr read:
                HandleReadCr(read);
                break;
            case RunWorkload run:
                StartWorkload(run);
                break;
            case ContinueWorkload:
                NextWorkloadChunk();
                break;
            case StopWorkload:
                StopRunningWorkload();
                break;
            case GetVcpuCounts:
                Sender.Tell(_counters.Snapshot(_vmId, _index));
                break;
            case CrashVcpu crash:
                throw new VcpuCrashException($"vCPU {_index} of VM '{_vmId}' crashed on request: {crash.Reason}");
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandleAttached(VcpuState state)
    {
        Array.Copy(state.ControlRegisters, _controlRegisters, Math.Min(state.ControlRegisters.Length, ControlRegisterCount));
        _generation = Math.Max(_generation, state.Generation);
        Become(State.Running);
    }

    private void HandleShootdown(Shootdown shootdown)
    {
        int dropped;
        if (shootdown.Range is { } range)
        {
            dropped = _translations.Invalidate(range.Start, range.End);
        }
        else
        {
            dropped = _translations.Count;
            _translations.Clear();
        }

        _generation = Math.Max(_generation, shootdown.Generation);
        _counters.Invalidations += dropped;
        if (dropped > 0 && HekiMetrics.TranslationInvalidations.Enabled)
            HekiMetrics.TranslationInvalidations.Add(dropped, PerVmTags());
        if (shootdown.TraceParent is not null && HekiSpans.Enabled)
            TraceInvalidation(shootdown.TraceParent, dropped);
        Sender.Tell(new VcpuSynced(_index, _generation));
    }

    // ---- accesses: the fast path ------------------------------------------------------------------------

    private void StartAccesses(PendingAccesses pending)
    {
        _pendingAccesses = pending;
        RunAccesses();
    }

    /// <summary>
    /// Runs the pending accesses until done or a translation miss; allocates nothing per access. A workload chunk is
    /// generated a part at a time (<see cref="WorkloadPart"/> accesses) into the same small buffers and run in the same
    /// turn; the group's time is that of running its parts, never of generating them.
    /// </summary>
    private void RunAccesses()
    {
        var pending = _pendingAccesses!;
        // Telemetry reads the clock per group of accesses like the workload does, never per access.
        var traced = HekiSpans.Enabled;
        var timed = pending.IsWorkload || traced || HekiMetrics.FastPathDuration.Enabled || HekiMetrics.SlowPathDuration.Enabled;
        var origin = pending.IsWorkload ? AccessOrigin.Workload : AccessOrigin.Attack;
        var tally = HekiMetrics.Accesses.Enabled ? _tallies[(int)origin] ??= new AccessTally() : null;
        var fastPathSpan = traced && HekiSpans.SampleFastPath(ref _fastPathCountdown)
            ? HekiSpans.StartDetached(HekiSpans.FastPath, default)
            : null;
        var gpas = pending.Gpas;
        var kinds = pending.Kinds;
        var cpls = pending.Cpls;
        var results = pending.Results;
        var memoryPages = _config.MemoryPages;
        var table = _permissionTable;
        int permitted = 0, faulted = 0, mmio = 0, ran = 0;
        long runningTicks = 0, now = 0;
        // The translation the last access hit, in locals: most accesses land in it, and then cost one unsigned
        // compare and one bit test. Cached runs never reach past guest memory, so a hit is never MMIO.
        ulong runStart = 0, runLength = 0;
        uint classesAllowed = 0;
        int i;
        while (true)
        {
            var partStart = timed ? Stopwatch.GetTimestamp() : 0;
            i = pending.Next;
            var first = i;
            for (; i < pending.Count; i++)
            {
                // The common case first, in a loop of its own without calls: an access in the run the last one hit,
                // permitted. Without profile data (TieredPGO is off: issue 11's boot) the JIT weighs the rare branches
                // below as likely and keeps this loop's locals on the stack; here they stay in registers.
                while (i < pending.Count)
                {
                    var hit = gpas[i] >> VmMemoryAttributes.PageShift;
                    if (hit - runStart >= runLength || !PermissionTable.Allows(classesAllowed, kinds[i], cpls is null ? 0 : cpls[i]))
                        break;
                    permitted++;
                    if (results is not null)
                        results[i] = AccessResult.Ok;
                    i++;
                }

                if (i >= pending.Count)
                    break;
                var gpa = gpas[i];
                var gfn = gpa >> VmMemoryAttributes.PageShift;
                AccessResult result;
                if (gfn - runStart >= runLength)
                {
                    if (gfn >= memoryPages)
                    {
                        result = AccessResult.Mmio;
                        mmio++;
                        tally?.Count(kinds[i], (int)AccessResult.Mmio);
                        if (results is not null)
                            results[i] = result;
                        continue;
                    }

                    if (!_translations.TryLookupRun(gfn, out var permissions, out runStart, out var runEnd))
                    {
                        runLength = 0;
                        break;
                    }

                    runLength = runEnd - runStart;
                    classesAllowed = table.ClassesAllowed(permissions);
                }

                var kind = kinds[i];
                if (PermissionTable.Allows(classesAllowed, kind, cpls is null ? 0 : cpls[i]))
                {
                    result = AccessResult.Ok;
                    permitted++;
                }
                else
                {
                    result = AccessResult.PageFault;
                    faulted++;
                    tally?.Count(kind, (int)AccessResult.PageFault);
                    InjectPageFault(kind, gpa, traced, fastPathSpan);
                }

                if (results is not null)
                    results[i] = result;
            }

            if (timed)
            {
                now = Stopwatch.GetTimestamp();
                runningTicks += now - partStart;
            }

            // Permitted accesses are counted by kind here, one vectorized pass per part, not in the loop.
            tally?.AddGroup(kinds.AsSpan(first, i - first));
            ran += i - first;

            // The next part of a workload chunk, generated into the same buffers, continues in this turn.
            if (i < pending.Count || !pending.IsWorkload || !_workload!.FillPart())
                break;
        }

        pending.Add(permitted, faulted, mmio);
        _counters.AddAccesses(origin, permitted, faulted, mmio);
        if (timed)
        {
            if (ran > 0)
                _counters.FastPath.Record(PicosecondsOf(runningTicks) / ran, ran);
            if (pending.IsWorkload)
                WorkloadSegmentRan(missed: i < pending.Count);
            FastPathRan(runningTicks, ran, fastPathSpan);
            if (i < pending.Count)
                _missStartedAt = now;
        }

        if (fastPathSpan is not null)
            FastPathSpanEnded(fastPathSpan, ran);

        if (i < pending.Count)
        {
            // Slow path: ask the VM, resume at this access when the translation arrives.
            pending.Next = i;
            Context.Parent.Tell(new TranslateRequest(_index, gpas[i] >> VmMemoryAttributes.PageShift));
            Become(State.AwaitingTranslation);
            return;
        }

        if (pending.IsWorkload)
        {
            // A workload's chunks are counted together (see AccessTally.Due); the round's end flushes the rest.
            if (tally is { Due: true })
                FlushTally(origin);
            WorkloadChunkDone();
            return;
        }

        if (tally is not null)
            FlushTally(origin);

        pending.Reply(_generation);
        _pendingAccesses = null;
        Become(State.Running);
    }

    private static string? BatchProblem(GuestAccessBatch batch)
    {
        if (batch.Gpas is null || batch.Kinds is null)
            return "an access batch needs gpas and kinds";
        if (batch.Gpas.Length != batch.Kinds.Length)
            return $"an access batch has {batch.Gpas.Length} gpas but {batch.Kinds.Length} kinds";
        if (batch.Cpls is { } cpls)
        {
            if (cpls.Length != batch.Gpas.Length)
                return $"an access batch has {batch.Gpas.Length} gpas but {cpls.Length} cpls";
            var bad = Array.FindIndex(cpls, cpl => cpl > 3);
            if (bad >= 0)
                return $"access {bad} of the batch has CPL {cpls[bad]} (a CPL is 0..3)";
        }

        return null;
    }

    private void InjectPageFault(AccessKind kind, ulong gpa, bool traced, Activity? fastPathSpan)
    {
        // The #PF is injected locally; the supervisor rate-limits and prints the warning (§6, §8). Traced, the
        // violation continues the change its translation came from, and the warning continues the violation.
        var traceParent = traced || HekiMetrics.Violations.Enabled ? Violation(kind, traced, fastPathSpan) : null;
        _warnings.Tell(new FaultReport(_vmId, _config.Profile, kind, gpa, traceParent));
    }

    private void HandleTranslationFill(TranslationFill fill)
    {
        _translations.Insert(fill.Start, Math.Min(fill.End, _config.MemoryPages), fill.Permissions, fill.TraceParent);
        _counters.Fills++;
        var origin = _pendingAccesses is { IsWorkload: true } ? AccessOrigin.Workload : AccessOrigin.Attack;
        if (HekiMetrics.TranslationFills.Enabled)
            HekiMetrics.TranslationFills.Add(1, new TagList { { HekiTags.Profile, _profileTag }, { HekiTags.Origin, HekiTagValues.Origins[(int)origin] } });
        SlowPathFilled(fill);
        if (origin == AccessOrigin.Workload)
        {
            // The rest of the chunk runs as the vCPU's own next message: this turn, which the fill woke, stays a few
            // microseconds, so the fills and shootdowns of other vCPUs queued behind it do not wait for a chunk of each
            // (WakeupFirstExecutor). Other messages stay stashed until the chunk resumes, as while the miss was served.
            _state = State.Resuming;
            Self.Tell(ResumeWorkload.Instance);
            return;
        }

        RunAccesses();
    }

    // ---- hypercalls and CRs -----------------------------------------------------------------------------

    private void HandleProtectMemory(GuestProtectMemory protect)
    {
        // The generic hypercall rule comes first: a CPL != 0 caller gets -EPERM and nothing is read (§5).
        if (protect.Cpl != 0)
        {
            RefuseHypercall(HekiTagValues.ProtectMemory, Errno.EPERM, cpl: true);
            return;
        }

        var traceParent = StartHypercall(HekiTagValues.ProtectMemory, protect.TraceParent);
        CallVm(new ProtectMemoryCall(protect.RequestId, _index, protect.ListPages, traceParent));
    }

    private void HandleLockCr(Guid requestId, ulong cr, ulong pin, ulong flags, byte cpl, string? traceParent = null)
    {
        if (cpl != 0)
        {
            RefuseHypercall(HekiTagValues.LockCrUpdate, Errno.EPERM, cpl: true);
            return;
        }

        traceParent = StartHypercall(HekiTagValues.LockCrUpdate, traceParent);
        CallVm(new LockCrCall(requestId, _index, cr, pin, flags, traceParent));
    }

    private void HandleHypercall(GuestHypercall call)
    {
        switch (HypercallDispatch.Classify(call.Nr, call.Cpl))
        {
            case HypercallKind.LockCrUpdate:
                HandleLockCr(call.RequestId, call.A0, call.A1, call.A2, call.Cpl);
                break;
            case HypercallKind.ProtectMemory:
                // The raw form carries no list pages (the model has no guest memory to read them from).
                RefuseHypercall(HekiTagValues.ProtectMemory, Errno.EFAULT, cpl: false);
                break;
            case HypercallKind.Rejected:
                var code = HypercallDispatch.RejectionCode(call.Nr, call.Cpl);
                RefuseHypercall(HekiTagValues.HypercallName(call.Nr), code, cpl: code == Errno.EPERM);
                break;
        }
    }

    private void HandleWriteCr(GuestWriteCr write)
    {
        if (write.Cr is < 0 or >= ControlRegisterCount)
        {
            Sender.Tell(new CommandRejected(RejectionCode.NoSuchControlRegister, Rejections.NoSuchControlRegister(write.Cr)));
            return;
        }

        CallVm(new CrWriteCall(write.RequestId, _index, write.Cr, write.Value, write.TraceParent));
    }

    private void HandleReadCr(GuestReadCr read)
    {
        if (read.Cr is < 0 or >= ControlRegisterCount)
        {
            Sender.Tell(new CommandRejected(RejectionCode.NoSuchControlRegister, Rejections.NoSuchControlRegister(read.Cr)));
            return;
        }

        Sender.Tell(new CrValue(_controlRegisters[read.Cr]));
    }

    private void CallVm(object call)
    {
        _pendingReplyTo = Sender;
        Context.Parent.Tell(call);
        Become(State.AwaitingVm);
    }

    private void FinishVmCall(HypercallServed served)
    {
        HypercallAnswered(served);
        _pendingReplyTo!.Tell(served.Done);
        _pendingReplyTo = null;
        Become(State.Running);
    }

    private void FinishCrWrite(CrWriteResult result)
    {
        // The VM's durable value: a duplicate write answered from its record leaves the register as it is.
        _controlRegisters[result.Cr] = result.Value;
        _pendingReplyTo!.Tell(new CrWriteDone(result.Written));
        _pendingReplyTo = null;
        Become(State.Running);
    }

    private void Become(State state)
    {
        var wasWaiting = _state != State.Running;
        _state = state;
        if (state == State.Running && wasWaiting)
            Stash.UnstashAll();
    }

    protected override void PreRestart(Exception reason, object message)
    {
        (_log ??= Context.GetLogger()).Warning("vCPU {0} of VM '{1}' restarting after: {2}", _index, _vmId, reason.Message);
        // A request in progress is not acknowledged: its sender sees no reply, never a wrong one.
        base.PreRestart(reason, message);
    }

    /// <summary>Accesses being executed: a batch, or one access wrapped as a batch of one.</summary>
    private sealed class PendingAccesses
    {
        private IActorRef _replyTo;
        private readonly bool _single;
        private int _permitted;
        private int _faulted;
        private int _mmio;

        public PendingAccesses(GuestAccessBatch batch, IActorRef replyTo)
        {
            _replyTo = replyTo;
            Gpas = batch.Gpas;
            Kinds = batch.Kinds;
            Count = batch.Gpas.Length;
            Cpls = batch.Cpls;
            Results = batch.ReportEach ? new AccessResult[Count] : null;
        }

        private PendingAccesses()
        {
            _replyTo = ActorRefs.Nobody;
            _single = true;
            Gpas = new ulong[1];
            Kinds = new AccessKind[1];
            Cpls = new byte[1];
            Count = 1;
            Results = new AccessResult[1];
        }

        /// <summary>Buffers for one access at a time, refilled by <see cref="Reset"/>.</summary>
        public static PendingAccesses Single() => new();

        /// <summary>Makes these single-access buffers hold <paramref name="access"/>, to be answered to <paramref name="replyTo"/>.</summary>
        public PendingAccesses Reset(GuestAccess access, IActorRef replyTo)
        {
            _replyTo = replyTo;
            Gpas[0] = access.Gpa;
            Kinds[0] = access.Kind;
            Cpls![0] = access.Cpl;
            Results![0] = default;
            Next = 0;
            _permitted = _faulted = _mmio = 0;
            return this;
        }

        /// <summary>Reusable buffers for a generated workload: refilled per chunk, no reply (the vCPU continues).</summary>
        public PendingAccesses(int capacity)
        {
            _replyTo = ActorRefs.Nobody;
            IsWorkload = true;
            Gpas = new ulong[capacity];
            Kinds = new AccessKind[capacity];
            Cpls = new byte[capacity];
        }

        public ulong[] Gpas { get; }
        public AccessKind[] Kinds { get; }
        public byte[]? Cpls { get; }
        public AccessResult[]? Results { get; }
        public int Count { get; private set; }
        public int Next { get; set; }
        public bool IsWorkload { get; }
        public int PermittedCount => _permitted;
        public int FaultedCount => _faulted;
        public int MmioCount => _mmio;

        /// <summary>A workload chunk's accesses so far (all its parts), for its counts.</summary>
        public int ChunkAccesses { get; private set; }

        /// <summary>Starts a workload chunk: its counts from zero, before its first part.</summary>
        public void StartChunk()
        {
            ChunkAccesses = 0;
            _permitted = _faulted = _mmio = 0;
        }

        /// <summary>Runs the <paramref name="count"/> accesses of a chunk's next part, already written to the buffers.</summary>
        public void StartPart(int count)
        {
            Count = count;
            Next = 0;
            ChunkAccesses += count;
        }

        public void Add(int permitted, int faulted, int mmio)
        {
            _permitted += permitted;
            _faulted += faulted;
            _mmio += mmio;
        }

        public void Reply(long generation)
        {
            if (_single)
            {
                _replyTo.Tell(new GuestAccessDone(Results![0]));
                _replyTo = ActorRefs.Nobody; // reused buffers hold no sender (an asker's temporary actor) longer than needed
            }
            else
                _replyTo.Tell(new GuestAccessBatchDone(_permitted, _faulted, _mmio, Results, generation));
        }
    }
}

/// <summary>Thrown on purpose by <see cref="CrashVcpu"/>; supervision restarts the vCPU.</summary>
public sealed class VcpuCrashException(string message) : Exception(message);
