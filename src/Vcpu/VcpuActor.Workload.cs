using System.Diagnostics;
using Akka.Actor;
using HekiActors.Vcpu.Workload;
using HekiActors.Protocol;
using HekiActors.Memory;

namespace HekiActors.Vcpu;

// The generated-workload hook of the vCPU (RunWorkload): buffers reused for every chunk, the accesses run
// through the same batch loop as GuestAccessBatch, a continuation message between chunks so shootdowns and
// other commands interleave, and latency sampled per group of accesses (never a clock read per access).
public sealed partial class VcpuActor
{
    /// <summary>Accesses generated and run per message.</summary>
    public const int WorkloadChunk = 4096;

    /// <summary>
    /// Accesses generated at a time: a chunk is generated and run in parts of this many in the same buffers (the same
    /// accesses in the same order as one chunk-sized fill), so a running vCPU holds 5 KB of buffers, not 41 KB (issue 11).
    /// </summary>
    public const int WorkloadPart = 512;

    /// <summary>Chunks between two progress reports (one message per ~65,000 accesses).</summary>
    private const int ProgressEveryChunks = 16;

    private WorkloadRun? _workload;

    private void StartWorkload(RunWorkload run)
    {
        if (_workload is { Active: true })
        {
            Sender.Tell(new CommandRejected(RejectionCode.WorkloadRunning, $"vCPU {_index} of VM '{_vmId}' is already running a workload"));
            return;
        }

        if (run.Workload is null || run.Accesses < 0)
        {
            Sender.Tell(new CommandRejected(RejectionCode.InvalidRequest, "a workload needs a guest workload and a non-negative access count"));
            return;
        }

        if (run.Accesses == 0)
        {
            Sender.Tell(new WorkloadDone(_vmId, _index, run.Round, 0, 0, 0, 0));
            return;
        }

        var workload = _workload ??= new WorkloadRun(run.Workload, run.Seed);
        workload.Begin(run, Sender);
        // The first chunk runs as the vCPU's own next message, not in this turn: a turn another actor's message woke
        // stays a few microseconds, so the wake-ups queued behind it (fills, shootdowns, answers) do not wait for a
        // chunk of each vCPU a round start wakes (WakeupFirstExecutor; issue 11, latency third pass).
        Self.Tell(ContinueWorkload.Instance);
    }

    private void NextWorkloadChunk()
    {
        var workload = _workload;
        if (workload is not { Active: true })
            return;
        if (workload.Remaining == 0 || workload.StopRequested)
        {
            FinishWorkload(workload);
            return;
        }

        workload.StartChunk();
        StartAccesses(workload.Pending);
    }

    /// <summary>Called by the batch loop after each run of fast-path accesses (up to a miss or the chunk's end).</summary>
    private void WorkloadSegmentRan(bool missed)
    {
        if (missed)
            _workload!.Misses++;
    }

    /// <summary>Called by the batch loop when a chunk's accesses are all done.</summary>
    private void WorkloadChunkDone()
    {
        var workload = _workload!;
        var pending = workload.Pending;
        workload.Permitted += pending.PermittedCount;
        workload.Faulted += pending.FaultedCount;
        workload.Mmio += pending.MmioCount;
        workload.Remaining -= pending.ChunkAccesses;
        workload.CountProgress(pending.ChunkAccesses, pending.FaultedCount);
        _pendingAccesses = null;
        var stop = workload.Remaining == 0
            || workload.StopRequested
            || (workload.Deadline is { } deadline && Context.System.Scheduler.Now >= deadline);
        if (stop)
            FinishWorkload(workload);
        else
            Self.Tell(ContinueWorkload.Instance);
        Become(State.Running);
    }

    private void StopRunningWorkload()
    {
        // Takes effect at the next chunk boundary: a chunk in progress (or waiting for a translation) completes.
        if (_workload is { Active: true } workload)
            workload.StopRequested = true;
    }

    private void FinishWorkload(WorkloadRun workload)
    {
        FlushTally(HekiActors.Observability.AccessOrigin.Workload);
        workload.ReportProgress();
        workload.ReplyTo.Tell(workload.End(_vmId, _index));
    }

    private static long PicosecondsBetween(long from, long to) => PicosecondsOf(to - from);

    private static long PicosecondsOf(long ticks) => (long)(ticks * (1_000_000_000_000.0 / Stopwatch.Frequency));

    /// <summary>Continues the running workload with its next chunk (sent to itself only: never serialized).</summary>
    private sealed class ContinueWorkload : INoSerializationVerificationNeeded
    {
        public static readonly ContinueWorkload Instance = new();
    }

    /// <summary>Resumes a workload chunk at the access that missed, its translation now filled (sent to itself only).</summary>
    private sealed class ResumeWorkload : INoSerializationVerificationNeeded
    {
        public static readonly ResumeWorkload Instance = new();
    }

    /// <summary>The running workload round: its generator, reusable buffers and what it counted so far.</summary>
    private sealed class WorkloadRun(WorkloadSpec workload, ulong seed)
    {
        public WorkloadGenerator Generator { get; } = new(workload, seed);
        public PendingAccesses Pending { get; private set; } = new(1);
        public IActorRef ReplyTo { get; private set; } = ActorRefs.Nobody;
        public IActorRef? ProgressTo { get; private set; }
        public bool Active { get; private set; }
        public bool StopRequested { get; set; }
        public long Round { get; private set; }
        public long Remaining { get; set; }
        public DateTimeOffset? Deadline { get; private set; }
        private long _unreportedAccesses;
        private long _unreportedFaulted;
        private int _unreportedChunks;
        private int _chunkLeft; // accesses of the current chunk not generated yet
        public long Permitted { get; set; }
        public long Faulted { get; set; }
        public long Mmio { get; set; }
        public long Misses { get; set; }

        public void Begin(RunWorkload run, IActorRef replyTo)
        {
            Generator.Reset(run.Workload, run.Seed);
            // Buffers sized for the largest part seen: a host of idle vCPUs with tiny rounds stays small.
            var part = (int)Math.Min(WorkloadPart, run.Accesses);
            if (Pending.Gpas.Length < part)
                Pending = new PendingAccesses(part);
            ReplyTo = replyTo;
            ProgressTo = run.ProgressTo;
            Round = run.Round;
            Remaining = run.Accesses;
            Deadline = run.Deadline;
            Permitted = Faulted = Mmio = Misses = 0;
            _unreportedAccesses = _unreportedFaulted = _unreportedChunks = 0;
            StopRequested = false;
            Active = true;
        }

        /// <summary>Starts the next chunk (up to <see cref="WorkloadChunk"/> of the accesses remaining) with its first part.</summary>
        public void StartChunk()
        {
            _chunkLeft = (int)Math.Min(WorkloadChunk, Remaining);
            Pending.StartChunk();
            FillPart();
        }

        /// <summary>Generates the chunk's next part into the buffers; false when the chunk has no more.</summary>
        public bool FillPart()
        {
            if (_chunkLeft == 0)
                return false;
            var count = Math.Min(_chunkLeft, Pending.Gpas.Length);
            Generator.Fill(Pending.Gpas.AsSpan(0, count), Pending.Kinds.AsSpan(0, count), Pending.Cpls!.AsSpan(0, count));
            _chunkLeft -= count;
            Pending.StartPart(count);
            return true;
        }

        /// <summary>Adds a chunk's accesses to the next progress report, sending it every few chunks.</summary>
        public void CountProgress(long accesses, long faulted)
        {
            _unreportedAccesses += accesses;
            _unreportedFaulted += faulted;
            if (++_unreportedChunks >= ProgressEveryChunks)
                ReportProgress();
        }

        /// <summary>Tells the progress receiver what ran since the last report.</summary>
        public void ReportProgress()
        {
            if (ProgressTo is not null && _unreportedAccesses > 0)
                ProgressTo.Tell(new WorkloadProgress(_unreportedAccesses, _unreportedFaulted));
            _unreportedAccesses = _unreportedFaulted = _unreportedChunks = 0;
        }

        /// <summary>The reply with the round's counts; the run is then idle until the next round.</summary>
        public WorkloadDone End(string vmId, int vcpu)
        {
            var done = new WorkloadDone(vmId, vcpu, Round, Permitted, Faulted, Mmio, Misses);
            ReplyTo = ActorRefs.Nobody;
            ProgressTo = null;
            Active = false;
            return done;
        }
    }
}
