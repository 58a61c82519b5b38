using HekiActors.Actors.Hosting;
using HekiActors.Cli.Dashboard;
using HekiActors.Cli.Output;
using HekiActors.Simulation;
using HekiActors.Simulation.Live;
using HekiActors.Memory;
using HekiActors.Observability;

namespace HekiActors.Cli.Simulate;

/// <summary>Runs a checked scenario: once per profile on the engine, with progress, record files and the reports.</summary>
/// <remarks>
/// Everything that can fail because of the user's input (record and report paths) is opened or checked before the
/// engine is created, so a bad path is a usage error and nothing runs. Profiles run one after the other, never at the
/// same time: two actor systems would compete for the same two cores and make both runs' throughput meaningless.
/// </remarks>
public sealed class SimulationRunner(Func<ISimulationEngine> engineFactory, TextWriter output, TextWriter error)
{
    /// <summary>The exit code of a run stopped by Ctrl+C (128 + SIGINT), after its partial report.</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>What to run and where its outputs go.</summary>
    /// <param name="RecordPath">The --record file; with both profiles, one file per profile (<see cref="Scenario.PerProfilePath"/>).</param>
    /// <param name="ReportPath">The --report JSON file, "-" for standard output (instead of the human report), or null.</param>
    /// <param name="Progress">Whether to show progress at all (--no-progress turns it off).</param>
    /// <param name="LiveProgress">Whether progress may redraw a status line (standard error is a terminal).</param>
    /// <param name="Telemetry">Exporters and sampling for the run (null: off, which costs nothing).</param>
    /// <param name="ScenarioPath">The scenario file the run was read from (null for the built-in default), so no output overwrites it.</param>
    /// <param name="EarlierVms">What to do with VMs an earlier run left in a SQLite journal (refuse, <c>--resume</c>, <c>--fresh</c>).</param>
    public sealed record Request(Scenario Scenario, string? RecordPath, string? ReportPath, bool Progress, bool LiveProgress, int Width = 120,
        TelemetryOptions? Telemetry = null, string? ScenarioPath = null, EarlierVms EarlierVms = EarlierVms.Refuse)
    {
        /// <summary>Serve a live page on this port (0: a free one); null for none.</summary>
        public int? DashboardPort { get; init; }

        /// <summary>The --cluster seed node: the run drives a running cluster instead of VMs in this process; null for local.</summary>
        public string? ClusterSeed { get; init; }

        /// <summary>The --cluster-config settings: the nodes' settings file, whose split-brain resolver and failure detector the client shares; null for the defaults.</summary>
        public Akka.Configuration.Config? ClusterConfig { get; init; }

        /// <summary>The --html report file, or null.</summary>
        public string? HtmlPath { get; init; }

        /// <summary>The command as typed, for the report's "how to reproduce".</summary>
        public string CommandLine { get; init; } = "heki simulate";
    }

    /// <summary>
    /// After the run, how long a watching page (it polls twice a second) gets to fetch the final figures at most, and how
    /// long without a poll means it was closed.
    /// </summary>
    public static readonly TimeSpan FinalFetchWait = TimeSpan.FromSeconds(15);

    /// <inheritdoc cref="FinalFetchWait"/>
    public static readonly TimeSpan PageGoneAfter = TimeSpan.FromSeconds(3);

    public const string StandardOutput = "-";

    private TelemetryRun Telemetry => new(error, "heki simulate");

    /// <summary>Runs the request; returns the exit status (<see cref="ExitCodes"/>).</summary>
    /// <param name="standardStreams">Whether <c>output</c> and <c>error</c> are this process's own, so that a standard stream
    /// redirected to one of the run's files (<c>&gt;k.db</c>) is refused too.</param>
    /// <exception cref="UsageException">An input or output path is refused; nothing ran.</exception>
    /// <exception cref="JournalInUseException">Another process has the journal; nothing ran.</exception>
    /// <exception cref="OutputFailedException">A report or record file, or standard output, could not be written.</exception>
    public async Task<int> RunAsync(Request request, CancellationToken cancellationToken, bool standardStreams = false)
    {
        var scenario = request.Scenario;
        var specs = scenario.Specs();
        if (PathConflicts.Find(FilesOf(request, specs), standardStreams) is { } conflict)
        {
            // When standard error is one of those files the message would land in it: say it on standard output, or not at all.
            conflict.SafeWriter(output, error)?.WriteLine($"heki simulate: {conflict.Message}");
            return ExitCodes.Usage;
        }

        RecordPaths.CheckSplittable(request.RecordPath, specs);
        // Every output that could never be written is refused now, before the run, rather than lost after it.
        foreach (var (option, path) in OutputFiles(request, specs))
        {
            OutputFile.Check(path, option);
        }

        // Checked and locked before any actor system starts; held until every profile's run has shut down.
        using var journals = JournalFiles.Open(specs.Where(s => s.Journal == JournalKind.Sqlite).Select(s => s.SqlitePath!));
        // VMs an earlier run left in a journal: refused, resumed or destroyed, decided for every profile before anything runs
        // (and before a record file is truncated).
        var starts = specs.Select(spec => EarlierVmsCheck.Decide(spec, request.EarlierVms, error)).ToList();
        // Around every profile's run and the reports, so the last scrape or export still sees the final counts.
        using var telemetry = Telemetry.Start(request.Telemetry ?? TelemetryOptions.Off);
        if (telemetry is null)
        {
            return ExitCodes.Failed;
        }

        using var live = request.DashboardPort is not null || request.HtmlPath is not null
            ? new LiveSession(Describe(request, specs))
            : null;
        await using var server = StartDashboard(request, live);
        if (request.DashboardPort is not null && server is null)
        {
            return ExitCodes.Failed;
        }

        // Created (truncated) only once nothing else can stop the command before the run: a port in use must not
        // cost the user an earlier recording.
        // A record file that cannot be written stops the run: its recording would be incomplete.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var recorders = OpenRecorders(request.RecordPath, scenario, specs, _ => stop.Cancel());

        var results = new List<SimulationResult>();
        var displays = new List<ProgressDisplay>();
        var stoppedEarly = false;
        if (request.ClusterSeed is { } seed)
        {
            // At once: joining a seed where no node answers waits the whole timeout, and nothing else is printed meanwhile.
            error.WriteLine($"heki simulate: joining the cluster at {seed} (up to {ClusterClient.JoinTimeout.TotalSeconds:0} s)");
        }

        try
        {
            var engine = engineFactory();
            foreach (var (spec, index) in specs.Select((s, i) => (s, i)))
            {
                if (stop.IsCancellationRequested)
                {
                    stoppedEarly = true;
                    break;
                }

                var display = request.Progress
                    ? new ProgressDisplay(error, request.LiveProgress, specs.Count > 1 ? spec.Profile.Name() : null, request.Width,
                        stopped: () => stop.IsCancellationRequested)
                    : null;
                if (display is not null)
                {
                    displays.Add(display);
                }

                var recorder = recorders?[index];
                // With a live page or an HTML report, the run is also recorded for them (and the supervisor observed).
                IProgress<SimulationProgress>? progress = live is null ? display : new ObservedProgress(display, live.StartRun(spec));
                try
                {
                    results.Add(await engine.RunAsync(spec, starts[index], progress, recorder, stop.Token).ConfigureAwait(false));
                }
                finally
                {
                    display?.Complete();
                    recorder?.Dispose();
                }

                stoppedEarly |= stop.IsCancellationRequested;
                if (results[^1].Failure is not null)
                {
                    break; // the run failed: the user fixes the journal and runs again, rather than wait for the other profile
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            stoppedEarly = true;
        }
        catch (TimeoutException e)
        {
            // A cluster that could not be joined or did not answer: the message says which and what to check.
            error.WriteLine($"heki simulate: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is not OutputFailedException)
        {
            error.WriteLine($"heki simulate: the simulation failed: {e.GetType().Name}: {e.Message}");
            return ExitCodes.Failed;
        }
        finally
        {
            foreach (var recorder in recorders ?? [])
            {
                recorder.Dispose();
            }
        }

        var recordFailure = recorders?.Select(r => r.Failure).FirstOrDefault(f => f is not null);
        if (results.Count == 0)
        {
            if (recordFailure is not null)
            {
                throw recordFailure;
            }

            error.WriteLine("heki simulate: stopped before any result");
            return InterruptedExitCode;
        }

        var runFailure = results.Where(r => r.Failure is not null)
            .Select(r => r.Spec.Journal == JournalKind.Sqlite ? $"{r.Failure} (journal {r.Spec.SqlitePath})" : r.Failure).FirstOrDefault();
        // Final values to every exporter before the reports, so the report's telemetry figures are final too.
        var summary = Telemetry.End(telemetry);
        WriteReports(request, scenario, results, stoppedEarly || runFailure is not null, summary);
        if (live is not null)
        {
            // The page and the HTML report show the JSON report itself: the same figures under the same names.
            live.Finish(JsonReport.Render(scenario, results, stoppedEarly || runFailure is not null, summary), stoppedEarly || runFailure is not null);
            WriteHtml(request, live);
        }

        if (server is not null && !await server.WaitForFinalFetchAsync(PageGoneAfter, FinalFetchWait, stop.Token).ConfigureAwait(false))
        {
            error.WriteLine("dashboard: the page did not fetch the final figures (it stopped polling, or took more than " +
                $"{DurationText.Format(FinalFetchWait)})");
        }
        if (recordFailure is not null)
        {
            throw recordFailure;
        }

        if (runFailure is not null)
        {
            error.WriteLine($"heki simulate: the run stopped: {runFailure}");
            return ExitCodes.Failed;
        }

        foreach (var recorder in recorders ?? [])
        {
            error.WriteLine($"recorded {ReportFormat.Count(recorder.Lines)} operations to {recorder.Path}");
        }

        await Telemetry.WaitForFinalScrapeAsync(telemetry, stop.Token).ConfigureAwait(false);
        if (displays.Select(d => d.Failure).FirstOrDefault(f => f is not null) is { } progressFailure)
        {
            throw progressFailure;
        }

        return stoppedEarly ? InterruptedExitCode : ExitCodes.Ok;
    }

    /// <summary>Every file the run reads or writes, for <see cref="PathConflicts"/>.</summary>
    private static IEnumerable<PathConflicts.Use> FilesOf(Request request, IReadOnlyList<SimulationSpec> specs)
    {
        foreach (var input in RunFileUses.Inputs(request.ScenarioPath, request.Scenario))
        {
            yield return input;
        }

        foreach (var journal in specs.Where(s => s.Journal == JournalKind.Sqlite).Select(s => s.SqlitePath!))
        {
            foreach (var use in RunFileUses.Journal(journal, "the journal"))
            {
                yield return use;
            }
        }

        if (request.RecordPath is { } record)
        {
            foreach (var spec in specs)
            {
                yield return new PathConflicts.Use("--record", specs.Count > 1 ? Scenario.PerProfilePath(record, spec.Profile) : record, Writes: true);
            }
        }

        if (request.ReportPath is { } report && report != StandardOutput)
        {
            yield return new PathConflicts.Use("--report", report, Writes: true);
        }

        if (request.HtmlPath is { } html)
        {
            yield return new PathConflicts.Use("--html", html, Writes: true);
        }
    }

    /// <summary>The files the command writes besides the journal (whose own checks are <see cref="JournalFiles"/>').</summary>
    private static IEnumerable<(string Option, string Path)> OutputFiles(Request request, IReadOnlyList<SimulationSpec> specs) =>
        FilesOf(request, specs).Where(use => use.Role is "--record" or "--report" or "--html" && use.Path is not null).Select(use => (use.Role, use.Path!));

    private void WriteReports(Request request, Scenario scenario, List<SimulationResult> results, bool stoppedEarly, TelemetrySummary? summary)
    {
        if (request.ReportPath == StandardOutput)
        {
            output.WriteLine(JsonReport.Render(scenario, results, stoppedEarly, summary));
            output.Flush();
            return;
        }

        ReportWriter.Write(output, scenario, results, stoppedEarly);
        if (request.ReportPath is { } path)
        {
            OutputFile.Write(path, $"--report {path}", file => JsonReport.Write(file, scenario, results, stoppedEarly, summary));
            error.WriteLine($"report written to {path}");
        }
    }

    private DashboardServer? StartDashboard(Request request, LiveSession? live)
    {
        if (request.DashboardPort is not { } port || live is null)
        {
            return null;
        }

        try
        {
            var server = DashboardServer.Start(live, port);
            error.WriteLine($"dashboard: live page at {server.Url}");
            error.Flush();
            return server;
        }
        catch (System.Net.HttpListenerException e)
        {
            error.WriteLine($"heki simulate: the dashboard could not listen on 127.0.0.1:{port}: {e.Message}");
            return null;
        }
    }

    /// <summary>The self-contained HTML report: the page with the whole feed (and the top offenders' events) inside.</summary>
    private void WriteHtml(Request request, LiveSession live)
    {
        if (request.HtmlPath is not { } path)
        {
            return;
        }

        using var feed = new MemoryStream();
        DashboardFeed.Write(feed, live, events: true);
        var html = DashboardPage.Report(live.About.Command, System.Text.Encoding.UTF8.GetString(feed.ToArray()));
        OutputFile.Write(path, $"--html {path}", file => file.Write(new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(html)));
        error.WriteLine($"HTML report written to {path}");
    }

    private static RunDescription Describe(Request request, IReadOnlyList<SimulationSpec> specs)
    {
        var scenario = request.Scenario;
        var records = request.RecordPath is not { } record
            ? []
            : specs.Select(spec => specs.Count > 1 ? Scenario.PerProfilePath(record, spec.Profile) : record).ToList();
        return new RunDescription(request.CommandLine, scenario.Name, request.ScenarioPath, scenario.Spec.Seed,
            ReportWriter.Describe(scenario.Spec), records)
        {
            Profiles = specs.Select(spec => spec.Profile.Name()).ToList(),
        };
    }

    private static List<RecordFileWriter>? OpenRecorders(string? path, Scenario scenario, IReadOnlyList<SimulationSpec> specs,
        Action<OutputFailedException> onFailure)
    {
        if (path is null)
        {
            return null;
        }

        var recorders = new List<RecordFileWriter>();
        try
        {
            foreach (var spec in specs)
            {
                var file = specs.Count > 1 ? Scenario.PerProfilePath(path, spec.Profile) : path;
                recorders.Add(new RecordFileWriter(file, scenario.Name, spec, onFailure));
            }

            return recorders;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or UsageException)
        {
            foreach (var recorder in recorders)
            {
                recorder.Dispose();
            }

            throw e as UsageException
                ?? new UsageException($"--record cannot create {path}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}");
        }
    }
}
