using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using HekiActors.Cli.Simulate;
using Xunit.Abstractions;

namespace HekiActors.Observability.Tests;

/// <summary>
/// The dashboard against a real Prometheus: a <c>heki simulate --metrics-port</c> run in this process, Debian's
/// prometheus scraping it with observability/prometheus's config, then every query of the Grafana dashboard must
/// return data. Everything listens on 127.0.0.1, every wait is bounded.
/// </summary>
public sealed partial class PrometheusDashboardTests(ITestOutputHelper output)
{
    private const string PrometheusBinary = "/usr/bin/prometheus";

    /// <summary>What the dashboard's Grafana variables stand for here: short windows, the run is short.</summary>
    private const string RateWindow = "15s";

    private static readonly TimeSpan QueryDeadline = TimeSpan.FromSeconds(90);

    [SkippableFact]
    public async Task Every_dashboard_query_returns_data_from_prometheus_scraping_a_simulation()
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
        var metricsPort = FreePort();
        var prometheusPort = FreePort();
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        using var stop = new CancellationTokenSource();
        Process? prometheus = null;
        Task<int>? simulation = null;
        var log = new StringWriter();
        try
        {
            simulation = StartSimulation(work.FullName, metricsPort, log, stop.Token);
            await WaitFor("the simulation's /metrics", TimeSpan.FromSeconds(60), async () =>
                (await TryGet(http, $"http://127.0.0.1:{metricsPort}/metrics"))?.Contains("heki_vms_active", StringComparison.Ordinal) == true,
                simulation);

            prometheus = StartPrometheus(root, work.FullName, metricsPort, prometheusPort);
            var api = $"http://127.0.0.1:{prometheusPort}/api/v1/query?query=";
            await WaitFor("Prometheus's first scrape", TimeSpan.FromSeconds(60), async () =>
                await SeriesCount(http, api, "heki_vms_active") > 0, simulation);

            // Counters appear when their first decision happens and rates need two scrapes in the window: retry until
            // every query has data or the deadline passes.
            var failing = queries.ToList();
            var deadline = Stopwatch.StartNew();
            while (failing.Count > 0 && deadline.Elapsed < QueryDeadline && !simulation.IsCompleted)
            {
                var still = new List<string>();
                foreach (var query in failing)
                {
                    if (await SeriesCount(http, api, query) == 0)
                        still.Add(query);
                }

                failing = still;
                if (failing.Count > 0)
                    await Task.Delay(TimeSpan.FromSeconds(2));
            }

            output.WriteLine($"{queries.Count} dashboard queries checked against Prometheus in {deadline.Elapsed.TotalSeconds:F0} s");
            Assert.True(failing.Count == 0,
                $"dashboard queries without data after {QueryDeadline.TotalSeconds} s:\n  " + string.Join("\n  ", failing) + "\n" + log);
        }
        finally
        {
            await stop.CancelAsync();
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

            if (simulation is not null)
                output.WriteLine($"simulation exited {await simulation.WaitAsync(TimeSpan.FromSeconds(60))}");
            output.WriteLine(log.ToString());
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

    [Fact]
    public void The_dashboard_has_a_prometheus_datasource_variable_and_the_documented_panels()
    {
        var path = Path.Combine(RepositoryRoot(), "observability", "grafana", "heki-dashboard.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var variables = json.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        Assert.Contains(variables, v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");
        var queries = string.Join("\n", DashboardQueries(path));
        foreach (var series in new[]
                 {
                     "heki_accesses_total", "heki_fastpath_duration_nanoseconds_bucket", "heki_slowpath_duration_seconds_bucket",
                     "heki_hypercalls_total", "heki_hypercall_duration_seconds_bucket", "heki_violations_total",
                     "heki_immutable_rejections_total", "heki_warnings_emitted_total", "heki_warnings_suppressed_total",
                     "heki_translation_invalidations_total", "heki_cr_pin_blocks_total", "heki_vms_active", "heki_vcpus_active",
                     "heki_store_runs",
                 })
        {
            Assert.Contains(series, queries, StringComparison.Ordinal);
        }

        Assert.Contains("histogram_quantile", queries, StringComparison.Ordinal);
    }

    /// <summary>Every "expr" in the dashboard (panels nest in rows), with Grafana's variables replaced by short windows.</summary>
    private static List<string> DashboardQueries(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var queries = new List<string>();
        Collect(json.RootElement, queries);
        return queries.Select(q => GrafanaVariable().Replace(q, RateWindow)).Distinct().ToList();

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

    private static Task<int> StartSimulation(string work, int port, TextWriter log, CancellationToken stop)
    {
        // A small scenario: 20 VMs is enough for every decision to happen each round, and boots in well under a second.
        var scenario = Path.Combine(work, "dashboard.yaml");
        File.WriteAllText(scenario, "vms: 20\nvcpus: 2\nmemory_mb: 256\nrounds: 20\nseed: 5\n");
        var options = new SimulateOptions();
        var command = new System.CommandLine.Command("simulate");
        options.AddTo(command);
        var request = options.Read(command.Parse([scenario, "--duration", "40s", "--metrics-port", port.ToString(CultureInfo.InvariantCulture), "--no-progress"]));
        Assert.Equal(port, request.Telemetry?.PrometheusPort);
        var runner = new SimulationRunner(SimulateCommand.CreateEngine, log, log);
        return Task.Run(() => runner.RunAsync(request, stop));
    }

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

    private static async Task<int> SeriesCount(HttpClient http, string api, string query)
    {
        var body = await TryGet(http, api + Uri.EscapeDataString(query));
        if (body is null)
            return 0;
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
            return 0;
        return root.GetProperty("data").GetProperty("result").GetArrayLength();
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

    private static async Task WaitFor(string what, TimeSpan limit, Func<Task<bool>> ready, Task<int> simulation)
    {
        var clock = Stopwatch.StartNew();
        while (!await ready())
        {
            Assert.False(simulation.IsCompleted, $"the simulation ended before {what} (exit {(simulation.IsCompletedSuccessfully ? simulation.Result : -1)})");
            Assert.True(clock.Elapsed < limit, $"no {what} after {limit.TotalSeconds} s");
            await Task.Delay(500);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
