using HekiActors.Cli.Dashboard;
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
    public sealed record Request(Scenario Scenario, string? RecordPath, string? ReportPath, bool Progress, bool LiveProgress, int Width = 120,
        TelemetryOptions? Telemetry = null)
    {
        /// <summary>Serve a live page on this port (0: a free one); null for none.</summary>
        public int? DashboardPort { get; init; }

        /// <summary>The --html report file, or null.</summary>
        public string? HtmlPath { get; init; }

        /// <summary>The scenario file the run was read from (null: the built-in default), for the report.</summary>
        public string? ScenarioPath { get; init; }

        /// <summary>The command as typed, for the report's "how to reproduce".</summary>
        public string CommandLine { get; init; } = "heki simulate";
    }

    /// <summary>How long the live page gets, after the run, to fetch the final figures (it polls twice a second).</summary>
    public static readonly TimeSpan FinalFetchWait = TimeSpan.FromSeconds(3);

    public const string StandardOutput = "-";

    public async Task<int> RunAsync(Request request, CancellationToken cancellationToken)
    {
        var scenario = request.Scenario;
        var specs = scenario.Specs();
        if (request.ReportPath is { } reportPath && reportPath != StandardOutput)
        {
            CheckWritable(reportPath, "--report");
        }

        if (request.HtmlPath is { } htmlPath)
        {
            CheckWritable(htmlPath, "--html");
            CheckHtmlIsItsOwnFile(request, specs);
        }

        var recorders = OpenRecorders(request.RecordPath, scenario, specs);
        // Around every profile's run and the reports, so the last scrape or export still sees the final counts.
        using var telemetry = StartTelemetry(request.Telemetry ?? TelemetryOptions.Off);
        if (telemetry is null)
        {
            foreach (var recorder in recorders ?? [])
            {
                recorder.Dispose();
            }

            return 1;
        }

        using var live = request.DashboardPort is not null || request.HtmlPath is not null
            ? new LiveSession(Describe(request, specs))
            : null;
        await using var server = StartDashboard(request, live);
        if (request.DashboardPort is not null && server is null)
        {
            foreach (var recorder in recorders ?? [])
            {
                recorder.Dispose();
            }

            return 1;
        }

        var results = new List<SimulationResult>();
        var stoppedEarly = false;
        try
        {
            var engine = engineFactory();
            foreach (var (spec, index) in specs.Select((s, i) => (s, i)))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    stoppedEarly = true;
                    break;
                }

                var display = request.Progress
                    ? new ProgressDisplay(error, request.LiveProgress, specs.Count > 1 ? spec.Profile.Name() : null, request.Width)
                    : null;
                var recorder = recorders?[index];
                IProgress<SimulationProgress>? progress = live is null ? display : new ObservedProgress(display, live.StartRun(spec));
                try
                {
                    results.Add(await engine.RunAsync(spec, progress, recorder, cancellationToken).ConfigureAwait(false));
                }
                finally
                {
                    display?.Complete();
                    recorder?.Dispose();
                }

                stoppedEarly |= cancellationToken.IsCancellationRequested;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            stoppedEarly = true;
        }
        catch (Exception e)
        {
            error.WriteLine($"heki simulate: the simulation failed: {e.GetType().Name}: {e.Message}");
            return 1;
        }
        finally
        {
            foreach (var recorder in recorders ?? [])
            {
                recorder.Dispose();
            }
        }

        if (results.Count == 0)
        {
            error.WriteLine("heki simulate: stopped before any result");
            return InterruptedExitCode;
        }

        // Final values to every exporter before the reports, so the report's telemetry figures are final too.
        var summary = EndTelemetry(telemetry);
        WriteReports(request, scenario, results, stoppedEarly, summary);
        foreach (var recorder in recorders ?? [])
        {
            error.WriteLine($"recorded {ReportFormat.Count(recorder.Lines)} operations to {recorder.Path}");
        }

        if (live is not null)
        {
            // The page and the HTML report show the JSON report itself: the same figures under the same names.
            live.Finish(JsonReport.Render(scenario, results, stoppedEarly, summary), stoppedEarly);
            WriteHtml(request, live);
        }

        if (server is not null && !await server.WaitForFinalFetchAsync(FinalFetchWait, cancellationToken).ConfigureAwait(false))
        {
            error.WriteLine($"dashboard: the page did not fetch the final figures within {DurationText.Format(FinalFetchWait)}");
        }

        await WaitForFinalScrapeAsync(telemetry, cancellationToken).ConfigureAwait(false);
        return stoppedEarly ? InterruptedExitCode : 0;
    }

    /// <summary>Ends the run's telemetry and says on one line if any of it was lost (issue 9: nothing silently lost).</summary>
    private TelemetrySummary? EndTelemetry(TelemetrySession telemetry)
    {
        if (!telemetry.IsActive)
        {
            return null;
        }

        telemetry.EndRun();
        var summary = TelemetrySummary.Current();
        if (summary.LostAnything)
        {
            error.WriteLine($"telemetry: {ReportFormat.Count(summary.SpansDropped)} of {ReportFormat.Count(summary.SpansEnded)} spans dropped, " +
                $"{ReportFormat.Count(summary.ExportFailures)} exports failed{(summary.FirstFailure is { } first ? $" (first: {first})" : "")}");
        }

        return summary;
    }

    /// <summary>Keeps the Prometheus endpoint up until it has served the final counts, at most the configured wait.</summary>
    private async Task WaitForFinalScrapeAsync(TelemetrySession telemetry, CancellationToken cancellationToken)
    {
        var wait = telemetry.Options.FinalScrapeWaitOrDefault;
        if (telemetry.Options.PrometheusPort is null || !telemetry.IsActive || wait <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
        {
            return;
        }

        error.WriteLine($"telemetry: waiting up to {DurationText.Format(wait)} for Prometheus to scrape the final counts (--final-scrape-wait)");
        error.Flush();
        if (!await telemetry.WaitForFinalScrapeAsync(wait, cancellationToken).ConfigureAwait(false))
        {
            error.WriteLine($"telemetry: no scrape of the final counts within {DurationText.Format(wait)}: Prometheus misses the run's last counts");
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

    private void WriteHtml(Request request, LiveSession live)
    {
        if (request.HtmlPath is not { } path)
        {
            return;
        }

        using var feed = new MemoryStream();
        DashboardFeed.Write(feed, live, events: true);
        var html = DashboardPage.Report(live.About.Command, System.Text.Encoding.UTF8.GetString(feed.ToArray()));
        File.WriteAllText(path, html);
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

    /// <summary>The HTML report must not overwrite an input or another output (issue 8's rule for every output path).</summary>
    private static void CheckHtmlIsItsOwnFile(Request request, IReadOnlyList<SimulationSpec> specs)
    {
        var html = Path.GetFullPath(request.HtmlPath!);
        var others = new List<(string Role, string Path)>();
        if (request.ScenarioPath is { } scenario)
        {
            others.Add(("the scenario file", scenario));
        }

        if (request.ReportPath is { } report && report != StandardOutput)
        {
            others.Add(("--report", report));
        }

        foreach (var spec in specs)
        {
            if (request.RecordPath is { } record)
            {
                others.Add(("--record", specs.Count > 1 ? Scenario.PerProfilePath(record, spec.Profile) : record));
            }

            if (spec.SqlitePath is { } journal)
            {
                others.Add(("the journal", journal));
            }
        }

        if (request.Scenario.Kernel is { Image: { } image })
        {
            others.Add(("--kernel", image));
        }

        if (request.Scenario.Kernel is { Modules: { } modules })
        {
            others.Add(("--modules", modules));
        }

        foreach (var (role, path) in others)
        {
            if (Path.GetFullPath(path) == html)
            {
                throw new UsageException($"--html {request.HtmlPath} is the same file as {role} {path}: it would be overwritten");
            }
        }
    }

    private TelemetrySession? StartTelemetry(TelemetryOptions options)
    {
        try
        {
            var session = TelemetrySession.Start(options);
            if (options.PrometheusPort is { } port)
            {
                error.WriteLine($"telemetry: Prometheus metrics at http://127.0.0.1:{port}/metrics");
            }

            return session;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A port in use is the usual cause; the SDK's exception names it.
            error.WriteLine($"heki simulate: telemetry could not start: {e.Message}");
            return null;
        }
    }

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
            using (var file = File.Create(path))
            {
                JsonReport.Write(file, scenario, results, stoppedEarly, summary);
            }

            error.WriteLine($"report written to {path}");
        }
    }

    private static List<RecordFileWriter>? OpenRecorders(string? path, Scenario scenario, IReadOnlyList<SimulationSpec> specs)
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
                recorders.Add(new RecordFileWriter(file, scenario.Name, spec));
            }

            return recorders;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            foreach (var recorder in recorders)
            {
                recorder.Dispose();
            }

            throw new UsageException($"--record cannot create {path}: {e.Message}");
        }
    }

    /// <summary>Refuses a report path whose folder does not exist before the run, rather than losing the report after it.</summary>
    private static void CheckWritable(string path, string option)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new UsageException($"{option} cannot write {path}: folder {directory} does not exist");
        }

        if (Directory.Exists(path))
        {
            throw new UsageException($"{option} cannot write {path}: it is a folder");
        }
    }
}
