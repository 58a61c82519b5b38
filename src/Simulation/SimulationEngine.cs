using Akka.Actor;
using Akka.Configuration;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;
using HekiActors.Protocol;
using HekiActors.Vcpu.Scheduling;

namespace HekiActors.Simulation;

/// <summary>How the engine runs a simulation (not part of the scenario: the same spec gives the same counts with any of these).</summary>
/// <param name="BootConcurrency">
/// VMs booting at the same time; null: <see cref="InMemoryBootConcurrency"/> with the in-memory journal in this process,
/// <see cref="DurableBootConcurrency"/> with a durable journal or a cluster (where many boots in flight fill each batched write
/// or cover the network's round trips).
/// </param>
/// <param name="WarningSink">Where printed kernel warnings go besides being counted (none: counted only).</param>
/// <param name="RunNonce">
/// Mixed into every request id with the seed (<see cref="RequestIds"/>): give each run on a durable journal its own
/// nonce, so it is never answered from an earlier run's record. The CLI draws one per run.
/// </param>
/// <param name="Config">HOCON that overrides the engine's actor system's (e.g. <c>akka.actor.serialize-messages = on</c> in tests).</param>
/// <param name="ClusterSeed">
/// Drive a running cluster of <c>heki node</c>s through this seed node (<c>akka.tcp://heki@HOST:PORT</c>) instead of VMs in
/// this process: the engine joins as a client (no VMs) and reaches the VMs through a shard region proxy; the VMs use the
/// nodes' journal, whatever the spec's.
/// </param>
/// <param name="ClusterConfig">The nodes' settings (<c>heki node --config</c>), whose <see cref="ClusterClient.SharedSettings"/> the
/// client must share; null when the nodes run with the defaults.</param>
public sealed record SimulationEngineOptions(int? BootConcurrency = null, IWarningSink? WarningSink = null, ulong RunNonce = 0, Config? Config = null,
    string? ClusterSeed = null, Config? ClusterConfig = null)
{
    public static readonly SimulationEngineOptions Default = new();

    /// <summary>
    /// VMs booting at once in memory: each boot is a few dozen messages with no wait outside the process, so a few dozen in
    /// flight keep both cores busy, and fewer boots in flight means fewer of their transient objects survive a collection
    /// (issue 11: a 10,000-VM boot used ~0.75x the CPU at 32 as at 512; docs/benchmarks.md, "Boot density (fifth pass)").
    /// </summary>
    public const int InMemoryBootConcurrency = 32;

    /// <summary>VMs booting at once with a durable journal or through a cluster.</summary>
    public const int DurableBootConcurrency = 512;

    /// <summary>The boot concurrency used for <paramref name="spec"/>.</summary>
    public int BootConcurrencyFor(SimulationSpec spec) =>
        BootConcurrency ?? (spec.Journal == JournalKind.InMemory && ClusterSeed is null ? InMemoryBootConcurrency : DurableBootConcurrency);
}

/// <summary>
/// Runs a <see cref="SimulationSpec"/> on its own actor system with a <see cref="HekiHost"/>'s actors (the spec's journal, Akka logging off,
/// warnings counted rather than printed) and returns what the <see cref="SimulationCoordinator"/> measured.
/// Writes nothing to standard output.
/// </summary>
public sealed class SimulationEngine(SimulationEngineOptions? options = null) : ISimulationEngine
{
    private readonly SimulationEngineOptions _options = options ?? SimulationEngineOptions.Default;

    /// <summary>Warning lines the last run printed (they went to the sink, not to a terminal).</summary>
    public long WarningLines { get; private set; }

    public Task<SimulationResult> RunAsync(SimulationSpec spec, IProgress<SimulationProgress>? progress,
        ISimulationRecorder? recorder, CancellationToken cancellationToken) =>
        RunAsync(spec, JournalStart.None, progress, recorder, cancellationToken);

    public async Task<SimulationResult> RunAsync(SimulationSpec spec, JournalStart start, IProgress<SimulationProgress>? progress,
        ISimulationRecorder? recorder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.Vms, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.VcpusPerVm, 1);
        if (spec.AccessesPerVcpu < 0)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.AccessesPerVcpu, "accesses per vCPU must not be negative");
        if (spec.Duration is null && spec.AccessesPerVcpu is null)
            throw new ArgumentException("a simulation needs a duration or an access count per vCPU", nameof(spec));
        // A guest kernel that cannot boot in this guest would fail inside every VM's actor: refuse the spec instead.
        if (spec.Guest.Problem(spec.MemoryMbPerVm) is { } kernelProblem)
            throw new ArgumentException(kernelProblem, nameof(spec));

        if (spec.Chaos is { HasJournalFaults: true } && spec.Journal != JournalKind.InMemory)
            throw new ArgumentException("journal faults need the in-memory journal (the chaos journal), not a durable one", nameof(spec));

        var sink = new CountingWarningSink(_options.WarningSink);
        // The scenario's chaos section: the rate limiters read a clock it can skew; journal faults need the chaos journal.
        var clock = spec.Chaos is { } chaos && chaos.RateOf(Chaos.FaultKind.ClockSkew) > 0 ? new Chaos.SkewedClock() : null;
        var config = (_options.Config ?? Config.Empty).WithFallback(Dispatchers).WithFallback(SimulationSerialization.Config);
        if (spec.Chaos is { HasJournalFaults: true })
            config = ConfigurationFactory.ParseString(Chaos.ChaosJournal.Config).WithFallback(config);
        var options = new HekiHostOptions(
            Journal: spec.Journal, SqlitePath: spec.SqlitePath, Clock: clock, WarningSink: sink, AkkaLogLevel: "OFF", SystemName: "heki-simulate",
            VmSettings: new VmActorSettings(ControlDispatcher: ControlDispatcher, VcpuDispatcher: VcpuDispatcher),
            Config: config,
            RecoverVmsAtStart: false,
            WarningObserver: progress as IWarningObserver);
        if (_options.ClusterSeed is { } seed)
        {
            options = ClusterClient.Options(options, seed, _options.ClusterConfig);
            // The cluster's journal outlives runs: a run replaces the VMs of its ids (sim-NNNNN) an earlier run left there.
            if (start.Destroy.Count == 0 && start.Resume.Count == 0)
                start = JournalStart.Fresh(Enumerable.Range(0, spec.Vms).Select(SimulationCoordinator.VmId));
        }

        var host = await HekiHost.StartAsync(options).ConfigureAwait(false);
        try
        {
            var warnings = host.Warnings;
            if (_options.ClusterSeed is { } joining)
            {
                await ClusterClient.WaitUntilUpAsync(host, joining, cancellationToken).ConfigureAwait(false);
                // The VMs' warnings are decided and counted on the nodes that host them: the run reports what the nodes counted meanwhile.
                warnings = host.System.ActorOf(ClusterWarnings.Props(host.Warnings).WithDispatcher(ControlDispatcher), "cluster-warnings");
                await warnings.Ask<ClusterWarnings.BaselineTaken>(ClusterWarnings.TakeBaseline.Instance, ClusterWarnings.AskTimeout * 2, cancellationToken)
                    .ConfigureAwait(false);
            }

            var coordinator = host.System.ActorOf(SimulationCoordinator.Props(spec, progress,
                recorder is null ? null : new SynchronizedRecorder(recorder), _options.BootConcurrencyFor(spec), _options.RunNonce, start)
                .WithDispatcher(ControlDispatcher), "simulation");
            // Subscribed before any VM exists (the host starts VMs on their first message, and recovers none at start
            // here), so even a journal that fails a VM's very first recovery is heard.
            // With injected journal faults (the in-memory chaos journal) every journal failure is an injected one, which
            // the VM recovers from: it must not stop the run.
            if (spec.Chaos is not { HasJournalFaults: true })
                host.System.EventStream.Subscribe(coordinator, typeof(JournalFailed));
            await using var stop = cancellationToken.Register(() => coordinator.Tell(StopSimulation.Instance));
            // The edge: the only Ask. The coordinator always answers, in bounded time once stopped (a result, or a failure if it broke).
            var result = (await coordinator.Ask<SimulationFinished>(new StartSimulation(host.Vms, warnings, clock), Timeout.InfiniteTimeSpan)
                .ConfigureAwait(false)).Result;
            WarningLines = sink.Lines;
            return _options.ClusterSeed is null ? result : result with { Nodes = await ClusterClient.NodeCountsAsync(host).ConfigureAwait(false) };
        }
        finally
        {
            await host.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The dispatcher of everything that decides: VM entities, their parent, the warning supervisor, coordinator, guest kernels.</summary>
    public const string ControlDispatcher = "heki-simulate-control";

    /// <summary>The dispatcher of vCPUs: one workload chunk per turn.</summary>
    public const string VcpuDispatcher = "heki-simulate-vcpu";

    /// <summary>
    /// Keeps the model responsive while thousands of vCPUs are busy: vCPUs run one workload chunk per turn, and
    /// everything that decides (VM actors, journal, warning supervisor, coordinator, guest kernels) runs on the same
    /// threads (one per core, one wake-up-first executor) ahead of the busy chunks, so a VM's answer, a kernel's next
    /// step or the progress timer waits for the chunks already running, never for a core from the OS (issue 11, latency
    /// third pass). The .NET thread pool stays free for I/O: the Prometheus endpoint answers there, and with the vCPUs on
    /// it a scrape waited seconds behind thousands of queued chunks (issue 9, docs/benchmarks.md). Actors get their
    /// dispatcher in their Props, never by path.
    /// </summary>
    private static readonly Config Dispatchers = ConfigurationFactory.ParseString($$"""
        heki-simulate-vcpu {
          type = Dispatcher
          executor = "{{typeof(WakeupFirstExecutorConfigurator).FullName}}, {{typeof(WakeupFirstExecutorConfigurator).Assembly.GetName().Name}}"
          wakeup-first-executor { thread-count = {{Environment.ProcessorCount}}, shared = heki-simulate }
          mailbox-type = "{{typeof(WakeupMailbox).FullName}}, {{typeof(WakeupMailbox).Assembly.GetName().Name}}"
          throughput = 1
        }
        # The same threads as the vCPUs, served first (issue 11, latency third pass): on threads of their own the VMs
        # waited for the OS to give them a core while both cores ran vCPU chunks.
        heki-simulate-control {
          type = Dispatcher
          executor = "{{typeof(WakeupFirstExecutorConfigurator).FullName}}, {{typeof(WakeupFirstExecutorConfigurator).Assembly.GetName().Name}}"
          wakeup-first-executor { thread-count = {{Environment.ProcessorCount}}, shared = heki-simulate }
          throughput = 30
        }
        akka.persistence.journal.inmem.plugin-dispatcher = heki-simulate-control
        akka.persistence.snapshot-store.inmem.plugin-dispatcher = heki-simulate-control
        """);
}
