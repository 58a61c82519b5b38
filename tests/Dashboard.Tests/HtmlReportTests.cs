using System.Text.Json;
using Microsoft.Playwright;

namespace HekiActors.Dashboard.Tests;

/// <summary><c>heki simulate --html</c>: one file that renders every chart and figure with the network cut off.</summary>
public sealed class HtmlReportTests(Browser browser) : IClassFixture<Browser>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("heki-html-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableFact]
    public async Task The_html_report_renders_every_chart_offline_and_shows_the_json_reports_figures()
    {
        Browser.Require();
        var html = Path.Combine(_folder, "report.html");
        var report = Path.Combine(_folder, "report.json");
        var record = Path.Combine(_folder, "run.jsonl");
        var run = SimulateInProcess.Start("--vms", "16", "--vcpus", "2", "--memory-mb", "256", "--kernel", "synthetic", "--duration", "3s", "--rounds", "6",
            "--profile", "both", "--no-progress", "--report", report, "--record", record, "--html", html);
        Assert.Equal(0, await run.Exit);

        var page = await browser.Context!.NewPageAsync();
        var fileUrl = new Uri(html).AbsoluteUri;
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);
        // The network is cut: every request but the file itself is aborted (and counted).
        await page.RouteAsync("**/*", route => route.Request.Url == fileUrl ? route.ContinueAsync() : route.AbortAsync());
        await page.GotoAsync(fileUrl);
        await page.WaitForSelectorAsync("body[data-state=done] #report-table");
        Assert.Equal([fileUrl], requests.Distinct());

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var profiles = json.RootElement.GetProperty("runs").GetArrayLength();
        Assert.Equal(2, profiles);
        // Every chart rendered, for both profiles side by side: a drawn canvas with the run's points.
        var charts = await page.EvaluateAsync<JsonElement>("""
            () => [...document.querySelectorAll('figure.chart')].map(f => ({
              key: f.dataset.chart,
              plots: [...f.querySelectorAll('.plot')].map(p => {
                const canvas = p.querySelector('canvas');
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let inked = 0;
                for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
                return { run: Number(p.dataset.run), points: Number(p.dataset.points), width: canvas.width, inked: inked };
              }) }))
            """);
        Assert.Equal(HekiActors.Simulation.Live.SimulationLiveRecorder.Charts.Count, charts.GetArrayLength());
        foreach (var chart in charts.EnumerateArray())
        {
            var plots = chart.GetProperty("plots").EnumerateArray().ToList();
            Assert.True(plots.Count == profiles, $"chart {chart.GetProperty("key")}: {plots.Count} plots for {profiles} profiles");
            foreach (var plot in plots)
            {
                Assert.True(plot.GetProperty("points").GetInt32() >= 2, $"chart {chart.GetProperty("key")}: no points");
                Assert.True(plot.GetProperty("inked").GetInt32() > 1_000, $"chart {chart.GetProperty("key")} run {plot.GetProperty("run")}: nothing drawn");
            }
        }

        ReportFigures.AssertEqual(await ReportFigures.ReadAsync(page, "#report-table"), json.RootElement);
        ReportFigures.AssertEqual(await ReportFigures.ReadAsync(page, "#attacks-table"), json.RootElement, vocabulary: false);
        ReportFigures.AssertEqual(await ReportFigures.ReadAsync(page, "#guest-kernel-table"), json.RootElement, vocabulary: false);

        // How to reproduce: the command, the seed and the recording.
        var reproduce = await page.InnerTextAsync("#reproduce");
        Assert.Contains("heki simulate --vms 16", reproduce);
        Assert.Contains("seed: 1", reproduce);
        Assert.Contains(Path.Combine(_folder, "run.hardened.jsonl"), reproduce);

        // A top offender's recent events are in the file too.
        await page.ClickAsync("#offenders table[data-run='0'] button.vm >> nth=0");
        await page.WaitForSelectorAsync("#vm-events tbody tr");
        Assert.Contains("#PF", await page.InnerTextAsync("#vm-events"));

        // The top of the report (figures, offenders with a VM's events, the first charts side by side): the whole page is
        // several screens long.
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Screenshots.PathFor("dashboard-report.png"), FullPage = true, Clip = new Clip { X = 0, Y = 0, Width = 1400, Height = 2000 },
        });
        Assert.Equal([fileUrl], requests.Distinct());
        await page.CloseAsync();
    }
}
