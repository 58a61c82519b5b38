using HekiActors.Observability.Live;
using HekiActors.Simulation;
using HekiActors.Simulation.Live;

namespace HekiActors.Cli.Dashboard;

/// <summary>
/// What a live page and an HTML report show of one command: its runs (one per profile, each with its
/// <see cref="SimulationLiveRecorder"/>), how to reproduce it, and, once written, the JSON report. The page's data
/// feed (<see cref="DashboardFeed"/>) reads it; the runner fills it. Thread-safe.
/// </summary>
public sealed class LiveSession : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<SimulationLiveRecorder> _runs = [];
    private readonly LatencyWindows _latencies = new();
    private string? _reportJson;
    private bool _stoppedEarly;

    /// <param name="about">The command, scenario and seed the page names.</param>
    public LiveSession(RunDescription about)
    {
        ArgumentNullException.ThrowIfNull(about);
        About = about;
    }

    public RunDescription About { get; }

    /// <summary>The runs so far, in order (hardened first with both profiles).</summary>
    public IReadOnlyList<SimulationLiveRecorder> Runs
    {
        get
        {
            lock (_gate)
                return _runs.ToArray();
        }
    }

    /// <summary>The JSON report (<see cref="Simulate.JsonReport"/>'s text) once the command wrote it; null while it runs.</summary>
    public string? ReportJson
    {
        get
        {
            lock (_gate)
                return _reportJson;
        }
    }

    public bool StoppedEarly
    {
        get
        {
            lock (_gate)
                return _stoppedEarly;
        }
    }

    /// <summary>Starts recording a run: the returned recorder is the run's progress receiver.</summary>
    public SimulationLiveRecorder StartRun(SimulationSpec spec)
    {
        var recorder = new SimulationLiveRecorder(spec, _latencies);
        lock (_gate)
            _runs.Add(recorder);
        return recorder;
    }

    /// <summary>The command is over: the page shows the report's figures from now on.</summary>
    public void Finish(string reportJson, bool stoppedEarly)
    {
        lock (_gate)
        {
            _reportJson = reportJson;
            _stoppedEarly = stoppedEarly;
        }
    }

    public void Dispose() => _latencies.Dispose();
}

/// <summary>How the page and the report name a command, and how to run it again.</summary>
/// <param name="Command">The exact command line, as typed (shell-quoted).</param>
/// <param name="Scenario">The scenario's name ("default" or the file's name).</param>
/// <param name="ScenarioFile">The scenario file's path, or null for the built-in default.</param>
/// <param name="Description">One line: VMs, vCPUs, memory, MBEC, rounds, bound, journal.</param>
/// <param name="Records">The <c>--record</c> files written, one per profile (empty without --record).</param>
public sealed record RunDescription(string Command, string Scenario, string? ScenarioFile, ulong Seed, string Description,
    IReadOnlyList<string> Records)
{
    /// <summary>The profiles the command runs, in order (the page lays out a column per profile from the start).</summary>
    public IReadOnlyList<string> Profiles { get; init; } = [];
}
