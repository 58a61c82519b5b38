using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HekiActors.Simulation;
using HekiActors.Simulation.Guest;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Protocol;

namespace HekiActors.Benchmarks;

/// <summary>
/// The simulation engine's harness (issue 4's targets are whole-system figures, not microbenchmarks):
/// <c>throughput</c> (simulated accesses per second) and <c>boot</c> (boot time of many VMs with their kernel
/// protections, and the process's peak RSS), <c>telemetry</c> (issues 5 and 9: throughput with telemetry off and
/// fully on — Prometheus scraped every second and OTLP to an in-process receiver — alternately, in one process; prints
/// the ratio of the medians), <c>scrape</c> (issue 9: /metrics latency while the simulation runs), and
/// <c>dashboard</c> / <c>dashboard-latency</c> (issue 14, <see cref="DashboardHarness"/>). Run as
/// <c>dotnet run -c Release --project benchmarks -- --simulate throughput|boot|telemetry [--vms N] [--vcpus N]
/// [--memory-mb N] [--seconds S] [--accesses N] [--rounds N] [--profile P] [--no-mbec] [--pairs N] [--trace-ratio R]
/// [--kernel synthetic|debian [--boot-modules N] [--run-modules N]] [--boot-concurrency N]</c> (the default guest, or the synthetic one, or the shipped
/// Debian one with its modules).
/// </summary>
public static class SimulationHarness
{
    /// <summary>--kernel synthetic|debian, and for debian --boot-modules N and --run-modules N (default: the default guest's, 2 and 2).</summary>
    private static GuestKernelSpec? Kernel(string[] args)
    {
        if (Value(args, "--kernel") is not { } name)
            return null;
        var kernel = GuestKernelSpec.For(Enum.Parse<DefaultGuest>(name, ignoreCase: true));
        return kernel.Package is null ? kernel : kernel with
        {
            BootModules = ModuleChoice.Counted(Int(args, "--boot-modules", kernel.BootModules.Count)),
            RunModules = ModuleChoice.Counted(Int(args, "--run-modules", kernel.RunModules.Count)),
        };
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var mode = args.Length > 0 ? args[0] : "throughput";
        var boot = mode == "boot";
        // The dashboard's cost (issue 14) compares like with like too: fixed work each way.
        var telemetry = mode is "telemetry" or "dashboard";
        var vms = Int(args, "--vms", boot ? 10_000 : 1_000);
        var vcpus = Int(args, "--vcpus", 2);
        var memoryMb = (ulong)Int(args, "--memory-mb", boot ? 4096 : 1024);
        // Telemetry compares like with like: a fixed amount of work (400,000 accesses per vCPU) each way, since a
        // duration bound lets round boundaries and scheduling vary the work done between identical runs.
        var seconds = Double(args, "--seconds", boot || telemetry ? 0 : 10);
        var accesses = Int(args, "--accesses", telemetry ? 400_000 : 0);
        var rounds = Int(args, "--rounds", boot ? 1 : 10);
        var profile = HekiProfiles.TryParse(Value(args, "--profile"), out var p) ? p : HekiProfile.Hardened;
        var spec = new SimulationSpec(vms, vcpus, memoryMb, profile, Mbec: !args.Contains("--no-mbec"),
            Duration: seconds > 0 ? TimeSpan.FromSeconds(seconds) : null, AccessesPerVcpu: seconds > 0 && accesses == 0 ? null : accesses,
            Rounds: rounds, Seed: 1, WorkloadMix.Default, boot ? AttackMix.None : AttackMix.Default,
            Kernel: Kernel(args));

        output.WriteLine(Invariant($"{mode}: {vms} VMs x {vcpus} vCPUs x {memoryMb} MiB, {profile.Name()}, {Environment.ProcessorCount} cores"));
        if (mode is "dashboard" or "dashboard-latency")
            return await DashboardHarness.RunAsync(mode, spec, Int(args, "--pairs", 5), output).ConfigureAwait(false);
        if (mode == "scrape")
            return await ScrapeAsync(spec, Int(args, "--scrapes", 50), output).ConfigureAwait(false);
        if (telemetry)
            return await TelemetryAsync(spec, Int(args, "--pairs", 5), Double(args, "--trace-ratio", TelemetryOptions.Off.TraceSampleRatio), output)
                .ConfigureAwait(false);
        var progress = new Progress<SimulationProgress>(s => output.WriteLine(Invariant(
            $"  {s.Elapsed.TotalSeconds,6:F1}s {s.Phase,-5} booted {s.VmsBooted}/{s.VmsTotal} accesses {s.Accesses:N0}")));
        // --boot-concurrency N: VMs booting at once (the engine's default unless given; issue 11's boot measures).
        var engine = Value(args, "--boot-concurrency") is null
            ? new SimulationEngine()
            : new SimulationEngine(new SimulationEngineOptions(BootConcurrency: Int(args, "--boot-concurrency", 0)));
        var result = await engine.RunAsync(spec, progress, null, CancellationToken.None).ConfigureAwait(false);
        var workload = result.Elapsed - result.BootElapsed;
        output.WriteLine(Invariant($"boot:        {result.BootElapsed.TotalSeconds:F2} s ({vms / Math.Max(result.BootElapsed.TotalSeconds, 1e-9):F0} VMs/s)"));
        output.WriteLine(Invariant($"workload:    {workload.TotalSeconds:F2} s, {result.Accesses.Total:N0} accesses ({result.Accesses.Faulted:N0} faulted)"));
        output.WriteLine(Invariant($"throughput:  {result.AccessesPerSecond / 1e6:F1} M accesses/s"));
        output.WriteLine(Invariant($"fast path:   p50 {result.FastPathNanoseconds.P50:F1} ns, p99 {result.FastPathNanoseconds.P99:F1} ns per access"));
        output.WriteLine(Invariant($"slow path:   {result.SlowPathFills:N0} fills, p50 {result.SlowPathNanoseconds.P50 / 1000:F1} us, p99 {result.SlowPathNanoseconds.P99 / 1000:F1} us"));
        output.WriteLine(Invariant($"hypercalls:  {result.Hypercalls:N0} ({result.HypercallFailures:N0} failed), p50 {result.HypercallNanoseconds.P50 / 1000:F1} us, p99 {result.HypercallNanoseconds.P99 / 1000:F1} us"));
        // Issue 11: what the model spent and what waiting for a turn added (p99 of each part).
        output.WriteLine(Invariant($"  service:   slow path p99 {result.Part(HekiVocabulary.SlowPathService).P99 / 1000:F1} us, hypercall p99 {result.Part(HekiVocabulary.HypercallService).P99 / 1000:F1} us"));
        output.WriteLine(Invariant($"  queueing:  slow path p99 {result.Part(HekiVocabulary.SlowPathQueueing).P99 / 1000:F1} us, hypercall p99 {result.Part(HekiVocabulary.HypercallQueueing).P99 / 1000:F1} us"));
        output.WriteLine(Invariant($"warnings:    {result.WarningsEmitted:N0} emitted, {result.WarningsSuppressed:N0} suppressed"));
        foreach (var attack in result.Attacks.Where(a => a.Attempted > 0))
            output.WriteLine(Invariant($"attack:      {attack.Kind,-22} {attack.Blocked}/{attack.Attempted} blocked {attack.Why}"));
        output.WriteLine(Invariant($"peak RSS:    {PeakRssMb():F0} MiB (VmHWM)"));
        output.WriteLine(Invariant($"GC:          {GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms paused in total, {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} gen0/1/2 collections"));
        return 0;
    }

    /// <summary>
    /// Off, on, off, on, ...: the same spec <paramref name="pairs"/> times each way, alternating so drift (JIT, heap
    /// growth, a noisy neighbour) hits both sides alike. "On" is everything a user turns on: the metrics, tracing at
    /// the default sampling (a tenth of traces, fast-path groups at 0.001; --trace-ratio to change the first), the
    /// Prometheus exporter, scraped every second.
    /// </summary>
    private static async Task<int> TelemetryAsync(SimulationSpec spec, int pairs, double traceRatio, TextWriter output)
    {
        var off = new List<double>();
        var on = new List<double>();
        // Issue 9: "on" exports by OTLP/HTTP too, to an in-process receiver (the OTLP end-to-end test's).
        using var receiver = new HekiActors.Observability.Tests.OtlpReceiver(decode: false);
        Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint);
        Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        for (var run = 0; run < 2 * pairs; run++)
        {
            var enabled = run % 2 == 1;
            var port = FreePort();
            using var session = enabled
                ? TelemetrySession.Start(new TelemetryOptions(Otlp: true, PrometheusPort: port, TraceSampleRatio: traceRatio))
                : null;
            using var scrapes = new CancellationTokenSource();
            var scraper = enabled ? ScrapeEverySecond(port, scrapes.Token) : Task.FromResult(0);
            var result = await new SimulationEngine().RunAsync(spec, null, null, CancellationToken.None).ConfigureAwait(false);
            await scrapes.CancelAsync().ConfigureAwait(false);
            var scraped = await scraper.ConfigureAwait(false);
            session?.EndRun();
            (enabled ? on : off).Add(result.AccessesPerSecond);
            output.WriteLine(Invariant(
                $"  run {run + 1}: telemetry {(enabled ? "on " : "off")} {result.AccessesPerSecond / 1e6,6:F1} M accesses/s, fast path p50 {result.FastPathNanoseconds.P50:F1} ns{(enabled ? $", {scraped} scrapes" : "")}"));
        }

        var ratio = Median(on) / Median(off);
        // Each "on" run against the "off" run just before it: robust to the drift a long series shows.
        var pairwise = on.Select((value, i) => value / off[i]).ToList();
        output.WriteLine(Invariant($"off median:  {Median(off) / 1e6:F1} M accesses/s"));
        output.WriteLine(Invariant($"on median:   {Median(on) / 1e6:F1} M accesses/s"));
        output.WriteLine(Invariant($"pairwise:    {string.Join(", ", pairwise.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))} (median {Median(pairwise):F3})"));
        output.WriteLine(Invariant($"on/off:      {ratio:F3} (target >= 0.9; trace ratio {traceRatio}; OTLP received {receiver.TraceRequests} span exports, {receiver.MetricRequests} metric exports; dropped {TelemetryLosses.SpansDropped}, failed exports {TelemetryLosses.ExportFailures})"));
        output.WriteLine(Invariant($"load:        {File.ReadAllText("/proc/loadavg").Trim()}"));
        return ratio >= 0.9 ? 0 : 1;
    }

    /// <summary>
    /// Issue 9: the cost of a scrape while the simulation runs. Prometheus on (default sampling), /metrics fetched
    /// back to back with 100 ms pauses from the end of boot until the run ends (at least <paramref name="scrapes"/>
    /// times: the workload is long enough when --seconds is), each timed from request to the last byte.
    /// </summary>
    private static async Task<int> ScrapeAsync(SimulationSpec spec, int scrapes, TextWriter output)
    {
        var port = FreePort();
        using var session = TelemetrySession.Start(new TelemetryOptions(PrometheusPort: port));
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var latencies = new List<double>();
        var failures = 0;
        var booted = new TaskCompletionSource();
        var progress = new Progress<SimulationProgress>(s =>
        {
            if (s.Phase != "boot")
                booted.TrySetResult();
        });
        var run = new SimulationEngine().RunAsync(spec, progress, null, CancellationToken.None);
        await Task.WhenAny(booted.Task, run).ConfigureAwait(false);
        var pausedAtBoot = GC.GetTotalPauseDuration();
        var collectionsAtBoot = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var window = System.Diagnostics.Stopwatch.StartNew();
        while (!run.IsCompleted)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics")).ConfigureAwait(false);
                if (body.Length > 0)
                    latencies.Add(clock.Elapsed.TotalMilliseconds);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures++;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        var scraping = window.Elapsed;
        var pausedWhileScraping = GC.GetTotalPauseDuration() - pausedAtBoot;
        var collections = (GC.CollectionCount(0) - collectionsAtBoot.Item1, GC.CollectionCount(1) - collectionsAtBoot.Item2,
            GC.CollectionCount(2) - collectionsAtBoot.Item3);
        var result = await run.ConfigureAwait(false);
        latencies.Sort();
        double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
        output.WriteLine(Invariant($"scrapes:     {latencies.Count} answered, {failures} failed (timeout 30 s)"));
        output.WriteLine(Invariant($"/metrics:    p50 {At(0.5):F1} ms, p99 {At(0.99):F1} ms, max {(latencies.Count == 0 ? double.NaN : latencies[^1]):F1} ms"));
        output.WriteLine(Invariant($"throughput:  {result.AccessesPerSecond / 1e6:F1} M accesses/s, boot {result.BootElapsed.TotalSeconds:F1} s"));
        output.WriteLine(Invariant($"GC:          {GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms paused in total, {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} gen0/1/2 collections, peak RSS {PeakRssMb():F0} MiB"));
        output.WriteLine(Invariant($"while scraping: {scraping.TotalSeconds:F1} s, GC paused {pausedWhileScraping.TotalMilliseconds:F0} ms in {collections.Item1}/{collections.Item2}/{collections.Item3} gen0/1/2 collections"));
        output.WriteLine(Invariant($"load:        {File.ReadAllText("/proc/loadavg").Trim()}"));
        return latencies.Count >= scrapes ? 0 : 1;
    }

    /// <summary>Plays Prometheus: GET /metrics once a second, as the scrape config does. Returns the scrapes done.</summary>
    private static async Task<int> ScrapeEverySecond(int port, CancellationToken stop)
    {
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var scrapes = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                _ = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"), stop).ConfigureAwait(false);
                scrapes++;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (HttpRequestException)
            {
                // Not listening yet or closing: the next second tries again.
            }
        }

        return scrapes;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The process's peak resident set (VmHWM of /proc/self/status), in MiB; 0 where there is no procfs.</summary>
    public static double PeakRssMb()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string? Value(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static int Int(string[] args, string name, int fallback) =>
        Value(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static double Double(string[] args, string name, double fallback) =>
        Value(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
