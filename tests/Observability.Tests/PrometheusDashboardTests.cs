using HekiActors.TestSupport;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HekiActors.Cli.Tests;
using Xunit.Abstractions;

namespace HekiActors.Observability.Tests;

/// <summary>
/// The dashboard against a real Prometheus: a <c>heki simulate --metrics-port</c> run in a child process, Debian's
/// prometheus scraping it with observability/prometheus's config, then every query of the Grafana dashboard must
/// return data. Everything listens on 127.0.0.1, every wait is bounded.
/// </summary>
public sealed partial class PrometheusDashboardTests(ITestOutputHelper output)
{
    private const string PrometheusBinary = "/usr/bin/prometheus";

    /// <summary>What the dashboard's Grafana variables stand for here: short windows, the run is short.</summary>
    private const string RateWindow = "15s";


    /// <summary>
    /// Issue 9's "Done when": the shipped prometheus.yml scraping a 300-VM, 40 s simulation. Prometheus starts first
    /// (as a user's would be running), then the run; every dashboard query must return data while it runs,
    /// avg_over_time(up) over the run must be at least 0.95, and after the run the last scraped value of every counter
    /// must equal the JSON report's figure for it, one by one, and each latency's p99 must agree within one bucket.
    /// </summary>
    [SkippableFact]
    public async Task Prometheus_scraping_a_300_vm_run_sees_every_panel_and_the_reports_figures()
    {
        if (!File.Exists(PrometheusBinary))
        {
            // In CI the binary is installed by .ci/services: missing there is a failure, never a skip.
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true",
                $"{PrometheusBinary} is missing in CI: .ci/services should have installed Debian's prometheus");
            Skip.If(true, $"{PrometheusBinary} is not installed (apt-get install -y prometheus); the dashboard was not checked");
        }

        var root = RepositoryRoot();
        var queries = DashboardQueries(Path.Combine(root, "observability", "grafana", "heki-dashboard.json"));
        Assert.NotEmpty(queries);
        var work = Directory.CreateTempSubdirectory("heki-prometheus-");
        var metricsPort = LoopbackPorts.Free();
        var prometheusPort = LoopbackPorts.Free();
        var reportPath = Path.Combine(work.FullName, "report.json");
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        Process? prometheus = null;
        Task<int>? simulation = null;
        HekiProcess? heki = null;
        string Log() => heki is null ? "" : heki.Stdout + heki.Stderr;
        try
        {
            prometheus = StartPrometheus(root, work.FullName, metricsPort, prometheusPort);
            var api = $"http://127.0.0.1:{prometheusPort}/api/v1/";
            await WaitFor("Prometheus to answer", TimeSpan.FromSeconds(60), async () => await TryGet(http, api + "query?query=up") is not null, null);

            heki = StartSimulation(work.FullName, metricsPort, reportPath);
            var running = heki;
            simulation = Task.Run(() => running.WaitForExit(TimeSpan.FromMinutes(3)));
            await WaitFor("the simulation's /metrics", TimeSpan.FromSeconds(60), async () =>
                (await TryGet(http, $"http://127.0.0.1:{metricsPort}/metrics"))?.Contains("heki_vms_active", StringComparison.Ordinal) == true,
                simulation);
            var runStart = DateTimeOffset.UtcNow;

            // Rates need two scrapes in their window: retry until every query has data or the run ends.
            var failing = queries.ToList();
            while (failing.Count > 0 && !simulation.IsCompleted)
            {
                var still = new List<string>();
                foreach (var query in failing)
                {
                    if ((await Query(http, api, query, null)).Count == 0)
                        still.Add(query);
                }

                failing = still;
                if (failing.Count > 0)
                    await Task.WhenAny(Task.Delay(TimeSpan.FromSeconds(2)), simulation);
            }

            Assert.True(failing.Count == 0, "dashboard queries without data during the run:\n  " + string.Join("\n  ", failing) + "\n" + Log());
            var exit = await simulation.WaitAsync(TimeSpan.FromMinutes(3));
            // The runner returns after Prometheus scraped the final counts; the endpoint is gone after this moment.
            var runEnd = DateTimeOffset.UtcNow;
            Assert.True(exit == 0, $"simulate exited {exit}\n{Log()}");
            Assert.Contains("waiting up to", Log(), StringComparison.Ordinal);
            Assert.DoesNotContain("no scrape of the final counts", Log(), StringComparison.Ordinal);

            // "Over the run": from the moment the endpoint first answered to Prometheus' last scrape of this run (the
            // final one the runner waited for); scrapes after it found the endpoint closed, which is the run's end.
            var window = (int)Math.Ceiling((runEnd - runStart).TotalSeconds) + 2;
            var lastScrape = Assert.Single(await Query(http, api, "timestamp(heki_telemetry_scrapes_total)", runEnd));
            var scrapes = (await Samples(http, api, $"up{{job=\"heki\"}}[{window}s]", runEnd))
                .Where(s => s.Time >= runStart.ToUnixTimeMilliseconds() / 1000.0 && s.Time <= lastScrape).ToList();
            var durations = await Samples(http, api, $"scrape_duration_seconds{{job=\"heki\"}}[{window}s]", runEnd);
            var upRatio = scrapes.Count == 0 ? 0 : scrapes.Average(s => s.Value);
            var diagnosis = "scrapes (unix time: up, seconds): " + string.Join(" ",
                scrapes.Select(s => $"{s.Time:F1}: {s.Value} {durations.FirstOrDefault(d => d.Time == s.Time).Value:F3}"));
            output.WriteLine($"up over the run = {upRatio:F3} ({scrapes.Count} scrapes)\n{diagnosis}");
            Assert.True(scrapes.Count >= 30, $"only {scrapes.Count} scrapes during a 40 s run\n{diagnosis}\n{Log()}");
            Assert.True(upRatio >= 0.95, $"up was 1 for only {upRatio:P0} of the run's scrapes\n{diagnosis}\n{Log()}");

            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(reportPath));
            var mismatches = new List<string>();
            var compared = 0;
            foreach (var run in report.RootElement.GetProperty("runs").EnumerateArray())
            {
                var profile = run.GetProperty("profile").GetString()!;
                var counts = run.GetProperty("counts");
                foreach (var count in HekiVocabulary.Counts)
                {
                    var expected = counts.GetProperty(count.Key).GetInt64();
                    var values = await Query(http, api, count.PromQl(profile), runEnd);
                    var actual = values.Count == 0 ? double.NaN : values[0];
                    compared++;
                    if (actual != expected)
                        mismatches.Add($"{profile} {count.Key}: report {expected}, Prometheus {actual} ({count.PromQl(profile)})");
                }

                foreach (var latency in HekiVocabulary.Latencies)
                {
                    var reportP99 = run.GetProperty("latency_ns").GetProperty(latency.Key).GetProperty("p99").GetDouble();
                    var scale = latency.Unit == "s" ? 1e9 : 1;
                    var bounds = latency.Unit == "s" ? HekiMetrics.LatencyBucketsSeconds.Select(b => b * 1e9).ToArray() : HekiMetrics.FastPathBucketsNs;
                    var values = await Query(http, api,
                        $"histogram_quantile(0.99, sum by (le) ({latency.PrometheusSeries}_bucket{{heki_profile=\"{profile}\"}}))", runEnd);
                    var prometheusP99 = values.Count == 0 ? double.NaN : values[0] * scale;
                    output.WriteLine($"{profile} {latency.Key} p99: report {reportP99:F1} ns, Prometheus {prometheusP99:F1} ns");
                    if (Math.Abs(Bucket(bounds, reportP99) - Bucket(bounds, prometheusP99)) <= 1)
                        continue;
                    // Where the distribution has a gap at its 99th percentile (a loaded machine: most groups run in tens of
                    // nanoseconds an access, the preempted ones in microseconds), a sliver of probability moves the
                    // quantile across the gap. Compared where quantiles are well conditioned instead: in probability, the
                    // share of Prometheus's observations at or below the edges of the bucket holding the report's p99.
                    var cumulative = await Cumulative(http, api, $"sum by (le) ({latency.PrometheusSeries}_bucket{{heki_profile=\"{profile}\"}})", runEnd);
                    var bucket = Bucket(bounds, reportP99);
                    var below = bucket == 0 ? 0 : Share(cumulative, bounds[bucket - 1] / scale);
                    var atOrBelow = bucket >= bounds.Length ? 1 : Share(cumulative, bounds[bucket] / scale);
                    output.WriteLine($"{profile} {latency.Key}: Prometheus has {below:P2} below and {atOrBelow:P2} at or below the report p99's bucket");
                    if (!(below <= 0.99 + QuantileTolerance && atOrBelow >= 0.99 - QuantileTolerance))
                        mismatches.Add($"{profile} {latency.Key} p99: report {reportP99} ns, Prometheus {prometheusP99} ns: more than one bucket apart, "
                                       + $"and Prometheus has {below:P2} of its observations below and {atOrBelow:P2} at or below the report p99's bucket");
                }
            }

            var telemetry = report.RootElement.GetProperty("telemetry");
            foreach (var count in new[] { HekiVocabulary.SpansDropped, HekiVocabulary.ExportFailures })
            {
                var values = await Query(http, api, $"sum({count.PrometheusSeries})", runEnd);
                var expected = telemetry.GetProperty(count.Key).GetInt64();
                if (values.Count != 1 || values[0] != expected)
                    mismatches.Add($"{count.Key}: report {expected}, Prometheus {(values.Count == 0 ? "nothing" : values[0])}");
            }

            // Every counter Prometheus has is one of the vocabulary's (or the endpoint's own scrape count).
            var names = await Names(http, api, "{__name__=~\"heki_.*_total\"}", runEnd);
            var known = HekiVocabulary.Counts.Concat([HekiVocabulary.SpansDropped, HekiVocabulary.ExportFailures])
                .Select(c => c.PrometheusSeries).Append("heki_telemetry_scrapes_total").ToHashSet();
            mismatches.AddRange(names.Where(n => !known.Contains(n)).Select(n => $"{n}: a counter outside the vocabulary"));
            output.WriteLine($"{compared} counts compared with the report, {names.Count} counter names seen");
            Assert.True(mismatches.Count == 0, string.Join("\n", mismatches) + "\n" + Log());
        }
        finally
        {
            // A run a failed assertion left behind is killed, never waited out.
            heki?.Dispose();
            if (prometheus is not null)
            {
                try
                {
                    prometheus.Kill(entireProcessTree: true);
                    await prometheus.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    output.WriteLine($"prometheus did not stop cleanly: {e.Message}");
                }

                prometheus.Dispose();
            }

            if (simulation is { IsCompletedSuccessfully: true })
                output.WriteLine($"simulation exited {simulation.Result}");
            output.WriteLine(Log());
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Prometheus may still be closing its files; the temp folder is cleaned up by the system.
            }
        }
    }

    /// <summary>The index of the bucket a value falls in (upper bounds inclusive, as Prometheus' le).</summary>
    /// <summary>
    /// How far from 99 % a histogram's share may be at the report p99's bucket: the fast path's histogram is a sample (one
    /// observation per 16,384 accesses, chosen by whole groups), the report counts every access.
    /// </summary>
    private const double QuantileTolerance = 0.005;

    /// <summary>The share of a cumulative histogram's observations at or below <paramref name="bound"/> (one of its <c>le</c>s).</summary>
    private static double Share(IReadOnlyDictionary<double, double> cumulative, double bound)
    {
        var total = cumulative.TryGetValue(double.PositiveInfinity, out var all) ? all : double.NaN;
        var at = cumulative.FirstOrDefault(kv => Math.Abs(kv.Key - bound) <= 1e-9 * Math.Max(1, Math.Abs(bound)));
        return total > 0 && at.Key != 0 ? at.Value / total : double.NaN;
    }

    /// <summary>A histogram's cumulative bucket counts at <paramref name="at"/>, by <c>le</c>.</summary>
    private static async Task<Dictionary<double, double>> Cumulative(HttpClient http, string api, string query, DateTimeOffset at)
    {
        var time = (at.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
        var body = await TryGet(http, api + "query?query=" + Uri.EscapeDataString(query) + "&time=" + time);
        if (body is null)
            return [];
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToDictionary(
            r => r.GetProperty("metric").GetProperty("le").GetString() is "+Inf" ? double.PositiveInfinity
                : double.Parse(r.GetProperty("metric").GetProperty("le").GetString()!, CultureInfo.InvariantCulture),
            r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture));
    }

    private static int Bucket(double[] bounds, double value)
    {
        if (double.IsNaN(value))
            return int.MinValue / 2;
        var i = Array.FindIndex(bounds, b => value <= b);
        return i < 0 ? bounds.Length : i;
    }

    [Fact]
    public void The_dashboard_has_a_prometheus_datasource_variable_and_the_documented_panels()
    {
        var path = Path.Combine(RepositoryRoot(), "observability", "grafana", "heki-dashboard.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var variables = json.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        Assert.Contains(variables, v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");
        // Two runs scraped by one Prometheus are told apart, never summed by accident.
        Assert.Equal(["datasource", "job", "instance", "profile"], variables.Select(v => v.GetProperty("name").GetString()));
        foreach (var expr in DashboardExpressions(path).Where(e => e.Contains("heki_", StringComparison.Ordinal)))
            Assert.Contains("job=~\"$job\"", expr, StringComparison.Ordinal);
        var queries = string.Join("\n", DashboardQueries(path));
        foreach (var series in new[]
                 {
                     "heki_accesses_total", "heki_fastpath_duration_nanoseconds_bucket", "heki_slowpath_duration_seconds_bucket",
                     "heki_hypercalls_total", "heki_hypercall_duration_seconds_bucket", "heki_violations_total",
                     "heki_immutable_rejections_total", "heki_warnings_emitted_total", "heki_warnings_suppressed_total",
                     "heki_translation_invalidations_total", "heki_cr_pin_blocks_total", "heki_vms_active", "heki_vcpus_active",
                     "heki_store_runs", "heki_translation_fills_total", "heki_boot_protection_failures_total", "heki_attacks_total",
                     "heki_telemetry_spans_dropped_total", "heki_telemetry_export_failures_total", "heki_host_integrity_faults_total",
                 })
        {
            Assert.Contains(series, queries, StringComparison.Ordinal);
        }

        Assert.Contains("histogram_quantile", queries, StringComparison.Ordinal);
    }

    /// <summary>Every "expr" in the dashboard (panels nest in rows), with Grafana's variables replaced: short windows, every job/instance/profile.</summary>
    private static List<string> DashboardQueries(string path) => DashboardExpressions(path)
        .Select(q => GrafanaVariable().Replace(q, RateWindow).Replace("$job", ".*", StringComparison.Ordinal)
            .Replace("$instance", ".*", StringComparison.Ordinal).Replace("$profile", ".*", StringComparison.Ordinal))
        .Distinct().ToList();

    private static List<string> DashboardExpressions(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var queries = new List<string>();
        Collect(json.RootElement, queries);
        return queries;

        static void Collect(JsonElement element, List<string> into)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                            into.Add(property.Value.GetString()!);
                        else
                            Collect(property.Value, into);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                        Collect(item, into);
                    break;
            }
        }
    }

    [GeneratedRegex(@"\$\{?__(rate_interval|interval|range)\}?")]
    private static partial Regex GrafanaVariable();

    /// <summary>
    /// Issue 9's run as a user starts it: <c>heki simulate</c> in a process of its own (the default scenario's 300 VMs
    /// for 40 s, rounds of 4 s, so every decision happens often), never inside the test host, whose heap and threads
    /// belong to the other tests.
    /// </summary>
    private static HekiProcess StartSimulation(string work, int port, string reportPath) =>
        HekiProcess.StartFullSize(work, "simulate", "--vms", "300", "--duration", "40s",
            "--metrics-port", port.ToString(CultureInfo.InvariantCulture), "--no-progress", "--report", reportPath,
            "--final-scrape-wait", "20s");

    private Process StartPrometheus(string root, string work, int metricsPort, int port)
    {
        var config = File.ReadAllText(Path.Combine(root, "observability", "prometheus", "prometheus.yml"));
        Assert.Contains("127.0.0.1:9464", config, StringComparison.Ordinal);
        var configPath = Path.Combine(work, "prometheus.yml");
        File.WriteAllText(configPath, config.Replace("127.0.0.1:9464", $"127.0.0.1:{metricsPort}", StringComparison.Ordinal));
        var start = new ProcessStartInfo(PrometheusBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = work,
        };
        start.ArgumentList.Add($"--config.file={configPath}");
        start.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(work, "data")}");
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        var process = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start");
        // Drained so a chatty Prometheus never blocks on a full pipe; the last lines explain a failure.
        var lines = new Queue<string>();
        void Keep(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null)
                return;
            lock (lines)
            {
                lines.Enqueue(e.Data);
                if (lines.Count > 20)
                    lines.Dequeue();
            }
        }

        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.Exited += (_, _) =>
        {
            lock (lines)
                output.WriteLine("prometheus exited:\n" + string.Join("\n", lines));
        };
        process.EnableRaisingEvents = true;
        return process;
    }

    /// <summary>An instant query's values (at <paramref name="at"/>, or now); empty when it has no data or failed.</summary>
    private static async Task<List<double>> Query(HttpClient http, string api, string query, DateTimeOffset? at)
    {
        var time = at is { } t ? "&time=" + (t.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture) : "";
        var body = await TryGet(http, api + "query?query=" + Uri.EscapeDataString(query) + time);
        if (body is null)
            return [];
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
            return [];
        return root.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>The raw samples (unix time in seconds, value) of a range selector at <paramref name="at"/>.</summary>
    private static async Task<List<(double Time, double Value)>> Samples(HttpClient http, string api, string rangeSelector, DateTimeOffset at)
    {
        var time = (at.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
        var body = await TryGet(http, api + "query?query=" + Uri.EscapeDataString(rangeSelector) + "&time=" + time);
        if (body is null)
            return [];
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .SelectMany(r => r.GetProperty("values").EnumerateArray())
            .Select(v => (v[0].GetDouble(), double.Parse(v[1].GetString()!, CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>The metric names a selector matches at <paramref name="at"/>.</summary>
    private static async Task<List<string>> Names(HttpClient http, string api, string selector, DateTimeOffset at)
    {
        var time = (at.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
        var body = await TryGet(http, api + "query?query=" + Uri.EscapeDataString($"count by (__name__) ({selector})") + "&time=" + time);
        if (body is null)
            return [];
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => r.GetProperty("metric").GetProperty("__name__").GetString()!).ToList();
    }

    private static async Task<string?> TryGet(HttpClient http, string url)
    {
        try
        {
            using var response = await http.GetAsync(url);
            // A bad query answers 400 with a JSON error: read it so the failure names the query, not the status.
            return await response.Content.ReadAsStringAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task WaitFor(string what, TimeSpan limit, Func<Task<bool>> ready, Task<int>? simulation)
    {
        var clock = Stopwatch.StartNew();
        while (!await ready())
        {
            if (simulation is { IsCompleted: true })
                Assert.Fail($"the simulation ended before {what} (exit {(simulation.IsCompletedSuccessfully ? simulation.Result : -1)})");
            Assert.True(clock.Elapsed < limit, $"no {what} after {limit.TotalSeconds} s");
            await Task.Delay(500);
        }
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HekiActors.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("HekiActors.sln not found above " + AppContext.BaseDirectory);
    }
}
