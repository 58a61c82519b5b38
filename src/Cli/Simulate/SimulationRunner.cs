using HekiActors.Simulation;
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
        TelemetryOptions? Telemetry = null);

    public const string StandardOutput = "-";

    public async Task<int> RunAsync(Request request, CancellationToken cancellationToken)
    {
        var scenario = request.Scenario;
        var specs = scenario.Specs();
        if (request.ReportPath is { } reportPath && reportPath != StandardOutput)
        {
            CheckWritable(reportPath, "--report");
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
                try
                {
                    results.Add(await engine.RunAsync(spec, display, recorder, cancellationToken).ConfigureAwait(false));
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

        WriteReports(request, scenario, results, stoppedEarly);
        foreach (var recorder in recorders ?? [])
        {
            error.WriteLine($"recorded {ReportFormat.Count(recorder.Lines)} operations to {recorder.Path}");
        }

        return stoppedEarly ? InterruptedExitCode : 0;
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

    private void WriteReports(Request request, Scenario scenario, List<SimulationResult> results, bool stoppedEarly)
    {
        if (request.ReportPath == StandardOutput)
        {
            output.WriteLine(JsonReport.Render(scenario, results, stoppedEarly));
            output.Flush();
            return;
        }

        ReportWriter.Write(output, scenario, results, stoppedEarly);
        if (request.ReportPath is { } path)
        {
            using (var file = File.Create(path))
            {
                JsonReport.Write(file, scenario, results, stoppedEarly);
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
