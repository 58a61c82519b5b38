using System.Text.Json;
using Microsoft.Playwright;

namespace HekiActors.Dashboard.Tests;

/// <summary>
/// <c>heki simulate --dashboard</c> in a real browser: the page updates while the run goes on, and ends on the run's
/// own figures (the JSON report the same command writes).
/// </summary>
public sealed class LivePageTests(Browser browser) : IClassFixture<Browser>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("heki-live-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableFact]
    public async Task The_live_page_updates_during_the_run_and_ends_on_the_reports_figures()
    {
        Browser.Require();
        var report = Path.Combine(_folder, "run.json");
        var run = SimulateInProcess.Start("--vms", "24", "--vcpus", "2", "--memory-mb", "256", "--kernel", "synthetic", "--duration", "8s", "--rounds", "8",
            "--no-progress", "--report", report, "--dashboard");
        var url = await run.DashboardUrlAsync(TimeSpan.FromSeconds(60));
        var page = await browser.Context!.NewPageAsync();
        var failed = new List<string>();
        page.RequestFailed += (_, request) => failed.Add(request.Url);
        await page.GotoAsync(url.ToString());

        // Two reads during the run: the accesses chart and figure must have grown between them.
        await page.WaitForFunctionAsync("() => window.heki.runs.length > 0 && window.heki.runs[0].phase === 'run' && window.heki.runs[0].timeline.t.length >= 2",
            null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        var first = await ReadLiveAsync(page);
        Assert.Equal("running", first.State);
        await page.WaitForFunctionAsync(
            "([points, accesses]) => { const r = window.heki.runs[0]; const s = r.timeline.series.accesses; return r.timeline.t.length > points && s[s.length - 1] > accesses; }",
            new object[] { first.Points, first.Accesses }, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        var second = await ReadLiveAsync(page);
        Assert.True(second.Points > first.Points, $"the charts did not update: {first.Points} then {second.Points} points");
        Assert.True(second.Accesses > first.Accesses, $"accesses did not grow: {first.Accesses} then {second.Accesses}");
        Assert.True(second.Figure >= first.Figure && second.Figure > 0, $"the accesses figure shown: {first.Figure} then {second.Figure}");
        Assert.NotEqual(first.Canvas, second.Canvas); // the plot itself was redrawn with the new points
        // The screenshot mid-run, once the charts have a few seconds of points (if the run is still going then).
        await page.WaitForFunctionAsync("() => window.heki.feed.state !== 'running' || window.heki.runs[0].fraction >= 0.6",
            null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        if (await page.EvaluateAsync<string>("() => window.heki.feed.state") == "running")
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshots.PathFor("dashboard-live.png"), FullPage = true });

        // The end: the page shows the report's figures, the same numbers the JSON report holds.
        await page.WaitForSelectorAsync("body[data-state=done] #report-table", new PageWaitForSelectorOptions { Timeout = 120_000 });
        Assert.Equal(0, await run.Exit);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var cells = await ReportFigures.ReadAsync(page, "#report-table");
        ReportFigures.AssertEqual(cells, json.RootElement);
        ReportFigures.AssertEqual(await ReportFigures.ReadAsync(page, "#attacks-table"), json.RootElement, vocabulary: false);
        ReportFigures.AssertEqual(await ReportFigures.ReadAsync(page, "#guest-kernel-table"), json.RootElement, vocabulary: false);
        // The accesses chart ends on the report's count.
        var lastAccesses = await page.EvaluateAsync<double>("() => { const s = window.heki.runs[0].timeline.series.accesses; return s[s.length - 1]; }");
        Assert.Equal(json.RootElement.GetProperty("runs")[0].GetProperty("counts").GetProperty("accesses").GetDouble(), lastAccesses);
        // Time only moves forward on every chart.
        var times = await page.EvaluateAsync<double[]>("() => window.heki.runs[0].timeline.t");
        Assert.True(times.Zip(times.Skip(1)).All(p => p.Item2 > p.Item1), "time goes back: " + string.Join(", ", times));
        Assert.Empty(failed);
        await page.CloseAsync();
    }

    private sealed record LiveRead(string State, int Points, double Accesses, double Figure, string Canvas);

    private static async Task<LiveRead> ReadLiveAsync(IPage page)
    {
        var values = await page.EvaluateAsync<JsonElement>("""
            () => {
              const run = window.heki.runs[0];
              const s = run.timeline.series.accesses;
              const cell = document.querySelector('#live-figures td[data-key=accesses][data-run="0"]');
              const canvas = document.querySelector('#chart-accesses .plot[data-run="0"] canvas');
              return { state: window.heki.feed.state, points: run.timeline.t.length, accesses: s[s.length - 1],
                       figure: cell ? Number(cell.dataset.value) : -1, canvas: canvas.toDataURL() };
            }
            """);
        return new LiveRead(values.GetProperty("state").GetString()!, values.GetProperty("points").GetInt32(),
            values.GetProperty("accesses").GetDouble(), values.GetProperty("figure").GetDouble(), values.GetProperty("canvas").GetString()!);
    }
}
