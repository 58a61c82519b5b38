using System.Diagnostics;
using HekiActors.Actors.Supervision;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Observability.Live;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Live;

/// <summary>
/// Records one simulation run for a live page and an HTML report: at every progress report (every
/// <see cref="SimulationCoordinator.ProgressInterval"/>) one sample of every series into a bounded
/// <see cref="RunTimeline"/>, and, from the warning supervisor's decisions, violations per VM (the top offenders and
/// their recent events). Give it to the engine as the run's progress receiver: the engine passes it to the supervisor
/// as its <see cref="IWarningObserver"/>.
/// </summary>
/// <remarks>
/// Where each figure comes from, so the page never recomputes what the report says: accesses, attacks and boot
/// protection failures from the coordinator's progress (the figures of the progress line); #PF faults (by access
/// kind), CR-pin #GP blocks and warnings emitted/suppressed from the supervisor, which sees every one of them as it
/// decides its warning; latencies from the metrics' own histograms (<see cref="LatencyWindows"/>). The last sample
/// (phase "done") takes every count from the report's own figures. Nothing walks the VMs: a sample costs the same
/// at 10 VMs and at 10,000.
/// </remarks>
public sealed class SimulationLiveRecorder : IProgress<SimulationProgress>, IWarningObserver
{
    /// <summary>Offender tallies: #PF faults and CR-pin #GP blocks.</summary>
    public const int PageFaultTally = 0;
    public const int CrPinTally = 1;

    private const string PfRead = "page_faults.read";
    private const string PfWrite = "page_faults.write";
    private const string PfExec = "page_faults.exec";
    private const string VmsBooted = "vms_booted";

    /// <summary>Every series, in the timeline's order.</summary>
    public static IReadOnlyList<string> SeriesKeys { get; } =
    [
        HekiVocabulary.Accesses.Key, HekiVocabulary.WorkloadAccesses.Key, HekiVocabulary.AttackAccesses.Key,
        PfRead, PfWrite, PfExec, HekiVocabulary.PageFaults.Key, HekiVocabulary.CrPinBlocks.Key, HekiVocabulary.Violations.Key,
        HekiVocabulary.WarningsEmitted.Key, HekiVocabulary.WarningsSuppressed.Key,
        HekiVocabulary.AttacksBlocked.Key, HekiVocabulary.AttacksSucceeded.Key,
        VmsBooted, HekiVocabulary.BootProtectionFailures.Key,
        HekiVocabulary.SpansDropped.Key, HekiVocabulary.ExportFailures.Key,
        .. HekiVocabulary.Latencies.SelectMany(l => new[] { l.Key + ".p50", l.Key + ".p90", l.Key + ".p99" }),
    ];

    /// <summary>The latency percentiles come last in <see cref="SeriesKeys"/>: three per latency.</summary>
    private static readonly int FirstLatencySeries = SeriesKeys.Count - 3 * HekiVocabulary.Latencies.Count;

    /// <summary>The counts the figures panel shows while the run goes on (vocabulary keys; at the end the report's).</summary>
    public static IReadOnlyList<HekiCount> LiveCounts { get; } =
    [
        HekiVocabulary.Accesses, HekiVocabulary.Violations, HekiVocabulary.PageFaults, HekiVocabulary.CrPinBlocks,
        HekiVocabulary.AttacksBlocked, HekiVocabulary.AttacksSucceeded, HekiVocabulary.WarningsEmitted,
        HekiVocabulary.WarningsSuppressed, HekiVocabulary.BootProtectionFailures, HekiVocabulary.SpansDropped,
        HekiVocabulary.ExportFailures,
    ];

    /// <summary>The charts, in page order: what each plots and in which unit.</summary>
    public static IReadOnlyList<ChartSpec> Charts { get; } =
    [
        new("accesses", "Accesses per second", "accesses/s", ChartKind.Rate,
            [new(HekiVocabulary.Accesses.Key, HekiVocabulary.Accesses.Label)]),
        new("violations", "Violations per second, by kind", "violations/s", ChartKind.Rate,
            [new(PfRead, HekiVocabulary.PageFaults.Label + ": read"), new(PfWrite, HekiVocabulary.PageFaults.Label + ": write"),
             new(PfExec, HekiVocabulary.PageFaults.Label + ": exec"), new(HekiVocabulary.CrPinBlocks.Key, HekiVocabulary.CrPinBlocks.Label)]),
        new("attacks", "Attacks (running total)", "attacks", ChartKind.Total,
            [new(HekiVocabulary.AttacksBlocked.Key, HekiVocabulary.AttacksBlocked.Label),
             new(HekiVocabulary.AttacksSucceeded.Key, HekiVocabulary.AttacksSucceeded.Label)]),
        new("warnings", "Kernel warnings per second", "warnings/s", ChartKind.Rate,
            [new(HekiVocabulary.WarningsEmitted.Key, HekiVocabulary.WarningsEmitted.Label),
             new(HekiVocabulary.WarningsSuppressed.Key, HekiVocabulary.WarningsSuppressed.Label)]),
        .. HekiVocabulary.Latencies.Select(l => new ChartSpec("latency-" + l.Key.Replace('_', '-'), $"{Capitalized(l.Label)} latency (log scale)", "latency",
            ChartKind.Latency, [new(l.Key + ".p50", "p50"), new(l.Key + ".p90", "p90"), new(l.Key + ".p99", "p99")])),
        new("boot", "VMs booted and boot protection failures (running total)", "VMs", ChartKind.Total,
            [new(VmsBooted, "VMs booted"), new(HekiVocabulary.BootProtectionFailures.Key, HekiVocabulary.BootProtectionFailures.Label)]),
        new("telemetry", "Dropped telemetry (running total)", "count", ChartKind.Total,
            [new(HekiVocabulary.SpansDropped.Key, HekiVocabulary.SpansDropped.Label),
             new(HekiVocabulary.ExportFailures.Key, HekiVocabulary.ExportFailures.Label)]),
    ];

    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly LatencyWindows? _latencies;
    private readonly double[] _sample = new double[SeriesKeys.Count];
    private readonly Lock _gate = new();
    private long _pfRead, _pfWrite, _pfExec, _crPinBlocks, _emitted, _suppressed;
    private RunState _state;
    private double _lastSampleAt = double.NegativeInfinity;

    /// <summary>Samples closer than this to the previous one replace it.</summary>
    public static readonly TimeSpan MinimumSpacing = SimulationCoordinator.ProgressInterval / 5;

    /// <param name="spec">The run (its profile and size label the page).</param>
    /// <param name="latencies">The latency listener (shared by a command's runs), or null for no latency series.</param>
    /// <param name="topOffenders">How many VMs the offenders table holds.</param>
    public SimulationLiveRecorder(SimulationSpec spec, LatencyWindows? latencies, int topOffenders = 10)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        _latencies = latencies;
        if (latencies is not null)
        {
            latencies.Profile = HekiTagValues.Of(spec.Profile);
            latencies.Take(); // start the first window now: nothing of an earlier run
        }

        Offenders = new TopOffenders<VmEvent>(topOffenders, categories: 2);
        _state = new RunState("boot", 0, 0, spec.Vms, 0, new Dictionary<string, double>());
        // The run starts from nothing: every count is 0 at second 0 (no latency measured yet), so each chart starts
        // where the run does, not at the first progress report (the actor system's start-up comes before it).
        for (var s = 0; s < SeriesKeys.Count; s++)
            _sample[s] = s >= FirstLatencySeries ? double.NaN : 0;
        Timeline.Append(0, _sample);
        _lastSampleAt = 0;
    }

    public SimulationSpec Spec { get; }

    public RunTimeline Timeline { get; } = new(SeriesKeys);

    /// <summary>VMs by violations (#PF faults + CR-pin #GP blocks), with each VM's recent events.</summary>
    public TopOffenders<VmEvent> Offenders { get; }

    /// <summary>The run's phase, progress and live figures at the last sample.</summary>
    public RunState State
    {
        get
        {
            lock (_gate)
                return _state;
        }
    }

    /// <summary>Warnings the supervisor printed so far (its decisions as observed).</summary>
    public long WarningsPrinted => Interlocked.Read(ref _emitted);

    /// <summary>Warnings the rate limit suppressed so far.</summary>
    public long WarningsSuppressed => Interlocked.Read(ref _suppressed);

    /// <summary>The report's counts once the run is over (the last progress report carries them); null before.</summary>
    public HekiCounts? Final { get; private set; }

    public void Report(SimulationProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var final = value.Final;
        var pf = Interlocked.Read(ref _pfRead) + Interlocked.Read(ref _pfWrite) + Interlocked.Read(ref _pfExec);
        var cr = Interlocked.Read(ref _crPinBlocks);
        var figures = new Dictionary<string, double>
        {
            [HekiVocabulary.Accesses.Key] = final?.Accesses ?? value.Accesses,
            [HekiVocabulary.WorkloadAccesses.Key] = final?.WorkloadAccesses ?? value.Accesses - value.AttackAccesses,
            [HekiVocabulary.AttackAccesses.Key] = final?.AttackAccesses ?? value.AttackAccesses,
            [PfRead] = Interlocked.Read(ref _pfRead),
            [PfWrite] = Interlocked.Read(ref _pfWrite),
            [PfExec] = Interlocked.Read(ref _pfExec),
            [HekiVocabulary.PageFaults.Key] = final?.PageFaults ?? pf,
            [HekiVocabulary.CrPinBlocks.Key] = final?.CrPinBlocks ?? cr,
            [HekiVocabulary.Violations.Key] = final?.Violations ?? pf + cr,
            [HekiVocabulary.WarningsEmitted.Key] = final?.WarningsEmitted ?? Interlocked.Read(ref _emitted),
            [HekiVocabulary.WarningsSuppressed.Key] = final?.WarningsSuppressed ?? Interlocked.Read(ref _suppressed),
            [HekiVocabulary.AttacksBlocked.Key] = final?.AttacksBlocked ?? value.AttacksBlocked,
            [HekiVocabulary.AttacksSucceeded.Key] = final?.AttacksSucceeded ?? value.AttacksSucceeded,
            [VmsBooted] = value.VmsBooted,
            [HekiVocabulary.BootProtectionFailures.Key] = final?.BootProtectionFailures ?? value.BootProtectionFailures,
            [HekiVocabulary.SpansDropped.Key] = TelemetryLosses.SpansDropped,
            [HekiVocabulary.ExportFailures.Key] = TelemetryLosses.ExportFailures,
        };
        var windows = _latencies?.Take();
        for (var l = 0; l < HekiVocabulary.Latencies.Count; l++)
        {
            var w = windows?[l] ?? default;
            var key = HekiVocabulary.Latencies[l].Key;
            // An empty window has no percentile: NaN leaves a gap rather than a false zero.
            figures[key + ".p50"] = w.Count == 0 ? double.NaN : w.P50;
            figures[key + ".p90"] = w.Count == 0 ? double.NaN : w.P90;
            figures[key + ".p99"] = w.Count == 0 ? double.NaN : w.P99;
        }

        lock (_gate)
        {
            // Read under the lock, so samples are appended in the order of their times.
            var seconds = Seconds();
            for (var s = 0; s < SeriesKeys.Count; s++)
                _sample[s] = figures[SeriesKeys[s]];
            // A delayed timer delivers its ticks back to back: a sample within a fifth of the interval of the last one
            // replaces it (a rate over a few microseconds means nothing), and the final one keeps its place at the end.
            if (seconds - _lastSampleAt < MinimumSpacing.TotalSeconds)
                Timeline.ReplaceLast(seconds, _sample);
            else
                Timeline.Append(seconds, _sample);
            _lastSampleAt = seconds;
            if (final is not null)
                Final = final;
            _state = new RunState(value.Phase, value.Fraction, value.VmsBooted, value.VmsTotal, seconds, figures);
        }
    }

    public void Decided(IWarningReport report, bool printed)
    {
        var category = -1;
        switch (report)
        {
            case FaultReport fault:
                if (fault.Kind == AccessKind.Read)
                    Interlocked.Increment(ref _pfRead);
                else if (fault.Kind == AccessKind.Write)
                    Interlocked.Increment(ref _pfWrite);
                else
                    Interlocked.Increment(ref _pfExec);
                category = PageFaultTally;
                break;
            case { Site: WarningSite.BlockedCr }:
                Interlocked.Increment(ref _crPinBlocks);
                category = CrPinTally;
                break;
        }

        if (printed)
            Interlocked.Increment(ref _emitted);
        else
            Interlocked.Increment(ref _suppressed);
        Offenders.Add(report.VmId, category, new VmEvent(Seconds(), report, printed));
    }

    private double Seconds() => Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;

    private static string Capitalized(string label) => char.ToUpperInvariant(label[0]) + label[1..];
}

/// <summary>A run's state at its last sample.</summary>
/// <param name="Phase">"boot", "run" or "done".</param>
/// <param name="Fraction">Progress of the phase, 0..1.</param>
/// <param name="Seconds">Seconds since the run started.</param>
/// <param name="Figures">The last sample's values by series key (vocabulary keys for counts).</param>
public sealed record RunState(string Phase, double Fraction, int VmsBooted, int VmsTotal, double Seconds, IReadOnlyDictionary<string, double> Figures);
