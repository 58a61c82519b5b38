using System.Runtime.CompilerServices;
using Akka.Dispatch;

namespace HekiActors.Vcpu.Scheduling;

/// <summary>
/// One <see cref="WakeupFirstExecutor"/> for every dispatcher of an actor system that names the same group
/// (<c>wakeup-first-executor.shared = NAME</c>): one set of threads and one scheduler for, e.g., the VMs and the vCPUs
/// they serve. Separate thread sets competed at the OS level: a VM with a translation to answer waited for the OS to
/// give its thread a core while both cores ran vCPU chunks (issue 11, latency third pass). On one executor a VM's mailbox
/// (not a <see cref="WakeupMailbox"/>) always goes to the wake-up queue, so it waits for the chunks already running at
/// most. Each dispatcher holds a lease; the threads stop when the last lease is shut down (Akka shuts an idle
/// dispatcher's executor down and makes a new one when it is used again: that takes a new lease).
/// </summary>
internal sealed class SharedWakeupFirstExecutor : ExecutorService
{
    // Per actor system (keyed by its settings object): two systems in one process never share threads.
    private static readonly ConditionalWeakTable<object, Dictionary<string, Group>> Systems = new();

    private readonly Dictionary<string, Group> _groups;
    private readonly Group _group;
    private int _shutdown;

    private SharedWakeupFirstExecutor(string id, Dictionary<string, Group> groups, Group group) : base(id)
    {
        _groups = groups;
        _group = group;
    }

    /// <summary>A lease on the group <paramref name="name"/> of <paramref name="system"/>, started with <paramref name="threads"/> threads if new.</summary>
    public static ExecutorService Lease(object system, string name, string id, int threads)
    {
        var groups = Systems.GetValue(system, _ => []);
        lock (groups)
        {
            if (!groups.TryGetValue(name, out var group))
                groups[name] = group = new Group(name, new WakeupFirstExecutor(name, threads));
            group.Leases++;
            return new SharedWakeupFirstExecutor(id, groups, group);
        }
    }

    public override void Execute(IRunnable run) => _group.Executor.Execute(run);

    public override void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
            return;
        lock (_groups)
        {
            if (--_group.Leases > 0)
                return;
            _groups.Remove(_group.Name);
        }

        _group.Executor.Shutdown();
    }

    private sealed class Group(string name, WakeupFirstExecutor executor)
    {
        public string Name { get; } = name;
        public WakeupFirstExecutor Executor { get; } = executor;
        public int Leases;
    }
}
