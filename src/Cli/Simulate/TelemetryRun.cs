using HekiActors.Actors.Hosting;
using HekiActors.Observability;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// A command's telemetry from start to end (<c>heki simulate</c>, <c>heki chaos</c>): starts the SDK for the chosen
/// exporters, says where Prometheus can scrape, ends the run saying on one line what telemetry lost, and keeps the
/// endpoint up until the final counts were scraped. Messages go to <paramref name="error"/>, prefixed with
/// <paramref name="command"/> where the command itself speaks.
/// </summary>
public sealed class TelemetryRun(TextWriter error, string command)
{
    /// <summary>The session, or null when it could not start (the reason was written; the command should fail).</summary>
    public TelemetrySession? Start(TelemetryOptions options)
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
            // A port in use is the usual cause: name the endpoint and the innermost reason ("Address already in use"),
            // which the SDK's own message leaves out.
            var inner = e.Innermost();
            var endpoint = options.PrometheusPort is { } taken ? $" (Prometheus endpoint 127.0.0.1:{taken})" : "";
            var reason = ReferenceEquals(inner, e) ? e.Message : $"{e.Message.TrimEnd('.')}: {inner.Message}";
            error.WriteLine($"{command}: telemetry could not start{endpoint}: {reason}");
            return null;
        }
    }

    /// <summary>Ends the run's telemetry and says on one line if any of it was lost (issue 9: nothing silently lost).</summary>
    public TelemetrySummary? End(TelemetrySession telemetry)
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
    public async Task WaitForFinalScrapeAsync(TelemetrySession telemetry, CancellationToken cancellationToken)
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
}
