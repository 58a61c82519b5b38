using Akka.Configuration;
using Akka.Dispatch;

namespace HekiActors.Vcpu.Scheduling;

/// <summary>
/// An Akka executor for busy actors (vCPUs running workloads) that serves a woken mailbox before the busy ones: a mailbox
/// scheduled because another actor sent it something (a translation miss answered, a shootdown, a hypercall's answer) goes
/// to the wake-up queue; a mailbox scheduled again after its turn, with only its own next chunk waiting, goes to the back
/// of the busy queue; and a busy mailbox already waiting there moves to the wake-up queue when another actor's message
/// arrives (<see cref="WakeupMailbox"/> tells it). So a message to a vCPU waits for one chunk of another vCPU at most, not
/// for a turn of every busy vCPU (with 600 busy vCPUs on 2 cores, tens of milliseconds). Like an OS scheduler's wake-up
/// preference. The busy queue is never starved: after <see cref="WakeupsPerBusyTurn"/> wake-ups in a row while busy
/// mailboxes wait, one of them runs.
/// </summary>
/// <remarks>
/// Its own threads (<c>thread-count</c>, default one per core), never the .NET pool. Runnables that are not a mailbox of a
/// <see cref="WakeupMailbox"/> go to the wake-up queue (they are rare: Akka's own tasks on the dispatcher).
/// </remarks>
public sealed class WakeupFirstExecutor : ExecutorService
{
    /// <summary>Wake-ups served in a row before a waiting busy mailbox gets a turn.</summary>
    public const int WakeupsPerBusyTurn = 8;

    [ThreadStatic] private static IRunnable? _running;

    private readonly object _gate = new();
    // A place is a mailbox's entry with the ticket it was queued with, or (no entry) a runnable of another kind.
    private readonly Queue<Place> _woken = new();
    private readonly Queue<Place> _busy = new();
    private readonly Thread[] _threads;
    private int _idleThreads;
    private int _wakeupsInARow;
    private bool _shutdown;

    public WakeupFirstExecutor(string id, int threadCount) : base(id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        _threads = new Thread[threadCount];
        for (var i = 0; i < threadCount; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"{id}-{i}" };
            _threads[i].Start();
        }
    }

    public override void Execute(IRunnable run)
    {
        if (run is not Mailbox { MessageQueue: WakeupMessageQueue queue })
        {
            // Any other runnable (an ordinary mailbox: a VM's, the journal's) is never busy nor moved: queued as it is,
            // with no entry (one made per Execute was a fifth of what a default run allocated after boot).
            lock (_gate)
            {
                _woken.Enqueue(new Place(null, run, 0));
                if (_idleThreads > 0)
                    Monitor.Pulse(_gate);
            }

            return;
        }

        // Only one Execute of a mailbox at a time (Akka schedules a mailbox once), so binding needs no lock.
        var entry = queue.Entry ??= new Entry(this, run, queue);
        var again = ReferenceEquals(_running, run);
        lock (_gate)
        {
            // Scheduled again at the end of its own turn, with nothing but its own messages: busy. Read under the gate, so
            // a message from another actor is either seen here or its Wake finds the entry busy and moves it.
            var busy = again && !queue.HasUrgent;
            entry.Ticket++;
            entry.State = busy ? EntryState.Busy : EntryState.Woken;
            (busy ? _busy : _woken).Enqueue(new Place(entry, run, entry.Ticket));
            if (_idleThreads > 0)
                Monitor.Pulse(_gate);
        }
    }

    public override void Shutdown()
    {
        lock (_gate)
        {
            _shutdown = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>A busy mailbox got a message from another actor: it moves to the wake-up queue (if it waits in the busy one).</summary>
    private void Wake(Entry entry)
    {
        lock (_gate)
        {
            if (entry.State != EntryState.Busy)
                return; // idle (Akka schedules it), running (scheduled again as woken), or already woken
            entry.Ticket++; // its place in the busy queue goes stale
            entry.State = EntryState.Woken;
            _woken.Enqueue(new Place(entry, entry.Runnable, entry.Ticket));
            if (_idleThreads > 0)
                Monitor.Pulse(_gate);
        }
    }

    private void Work()
    {
        while (true)
        {
            Place place;
            lock (_gate)
            {
                while (!TryTake(out place))
                {
                    if (_shutdown)
                        return;
                    _idleThreads++;
                    Monitor.Wait(_gate);
                    _idleThreads--;
                }

                if (place.Entry is { } running)
                    running.State = EntryState.Running;
            }

            _running = place.Runnable;
            place.Entry?.Queue.StartTurn();
            try
            {
                place.Runnable.Run();
            }
            finally
            {
                _running = null;
            }
        }
    }

    /// <summary>The next runnable (under the gate): a woken one first, but a busy one after a run of wake-ups; stale places skipped.</summary>
    private bool TryTake(out Place place)
    {
        var busyTurn = _wakeupsInARow >= WakeupsPerBusyTurn;
        if (busyTurn && TakeFrom(_busy, out place))
        {
            _wakeupsInARow = 0;
            return true;
        }

        if (TakeFrom(_woken, out place))
        {
            _wakeupsInARow = _busy.Count > 0 ? _wakeupsInARow + 1 : 0;
            return true;
        }

        _wakeupsInARow = 0;
        return TakeFrom(_busy, out place);
    }

    private static bool TakeFrom(Queue<Place> queue, out Place place)
    {
        while (queue.TryDequeue(out place))
        {
            if (place.Entry is { } entry && place.Ticket != entry.Ticket)
                continue; // moved to the wake-up queue since
            return true;
        }

        return false;
    }

    /// <summary>A place in a queue: a mailbox's entry and the ticket it was queued with, or a runnable of another kind (no entry).</summary>
    private readonly record struct Place(Entry? Entry, IRunnable Runnable, long Ticket);

    internal enum EntryState
    {
        Idle,
        Busy,
        Woken,
        Running,
    }

    /// <summary>A mailbox's place in this executor (one per mailbox, kept by its queue); its fields change under the gate.</summary>
    internal sealed class Entry(WakeupFirstExecutor executor, IRunnable runnable, WakeupMessageQueue queue)
    {
        public IRunnable Runnable { get; } = runnable;
        public WakeupMessageQueue Queue { get; } = queue;
        public long Ticket;
        public EntryState State;

        public void Wake() => executor.Wake(this);
    }
}

/// <summary>
/// Makes a <see cref="WakeupFirstExecutor"/>: <c>executor = "HekiActors.Vcpu.Scheduling.WakeupFirstExecutorConfigurator, HekiActors.Vcpu"</c>,
/// with <c>wakeup-first-executor.thread-count</c> threads (default one per core); dispatchers that give the same
/// <c>wakeup-first-executor.shared</c> name share one (<see cref="SharedWakeupFirstExecutor"/>).
/// </summary>
public sealed class WakeupFirstExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id)
    {
        var configured = Config.GetInt("wakeup-first-executor.thread-count", 0);
        var threads = configured > 0 ? configured : Environment.ProcessorCount;
        return Config.GetString("wakeup-first-executor.shared", null) is { Length: > 0 } shared
            ? SharedWakeupFirstExecutor.Lease(Prerequisites.Settings, shared, id, threads)
            : new WakeupFirstExecutor(id, threads);
    }
}
