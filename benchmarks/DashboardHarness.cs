using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HekiActors.Cli.Dashboard;
using HekiActors.Simulation;
using HekiActors.Simulation.Live;

namespace HekiActors.Benchmarks;

/// <summary>
/// Issue 14's targets, measured on the real server and feed with a client that polls like the page does (every
/// 500 ms, asking only for the points it lacks):
/// <c>dashboard</c>: simulated accesses/s with the live page served and polled vs without it, alternately, a fixed
/// amount of work each way, in one process (target: on/off ≥ 0.95);
/// <c>dashboard-latency</c>: the feed's latency per update (request to last byte) through a whole run, e.g. at
/// 10,000 VMs (target: &lt; 200 ms), with the GC's pauses over the same window.
/// <code>
/// dotnet run -c Release --project benchmarks -- --simulate dashboard --vms 300 --pairs 5
/// dotnet run -c Release --project benchmarks -- --simulate dashboard-latency --vms 10000 --seconds 20
/// </code>
/// </summary>
public static class DashboardHarness
{
    public static async Task<int> RunAsync(string mode, SimulationSpec spec, int pairs, TextWriter output) =>
        mode == "dashboard" ? await CostAsync(spec, pairs, output).ConfigureAwait(false) : await LatencyAsync(spec, output).ConfigureAwait(false);

    private static async Task<int> CostAsync(SimulationSpec spec, int pairs, TextWriter output)
    {
        var off = new List<double>();
        var on = new List<double>();
        // CPU time per access as well: on a shared machine the wall clock measures the neighbours' load as much as
        // ours, while the process's own CPU time per access moves only with what this process does.
        var offCpu = new List<double>();
        var onCpu = new List<double>();
        for (var run = 0; run < 2 * pairs; run++)
        {
            var served = run % 2 == 1;
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var (result, polls) = await RunOnceAsync(spec, served, null).ConfigureAwait(false);
            var cpuNsPerAccess = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalNanoseconds / result.Accesses.Total;
            (served ? on : off).Add(result.AccessesPerSecond);
            (served ? onCpu : offCpu).Add(cpuNsPerAccess);
            output.WriteLine(Invariant($"  run {run + 1}: dashboard {(served ? "on " : "off")} {result.AccessesPerSecond / 1e6,6:F1} M accesses/s, {cpuNsPerAccess,5:F1} CPU ns/access{(served ? $", {polls.Count} polls, p50 {At(polls, 0.5):F1} ms" : "")}, load {Load()}"));
        }

        var ratio = SimulationHarness.Median(on) / SimulationHarness.Median(off);
        var pairwise = on.Select((value, i) => value / off[i]).ToList();
        var cpuRatio = SimulationHarness.Median(onCpu) / SimulationHarness.Median(offCpu);
        output.WriteLine(Invariant($"off median:  {SimulationHarness.Median(off) / 1e6:F1} M accesses/s, {SimulationHarness.Median(offCpu):F1} CPU ns/access"));
        output.WriteLine(Invariant($"on median:   {SimulationHarness.Median(on) / 1e6:F1} M accesses/s, {SimulationHarness.Median(onCpu):F1} CPU ns/access"));
        output.WriteLine(Invariant($"pairwise:    {string.Join(", ", pairwise.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))} (median {SimulationHarness.Median(pairwise):F3})"));
        output.WriteLine(Invariant($"on/off:      {ratio:F3} accesses/s (target >= 0.95); CPU per access on/off {cpuRatio:F3} (<= 1.053 is the same 5 %)"));
        output.WriteLine(Invariant($"load:        {Load()}"));
        return ratio >= 0.95 ? 0 : 1;
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static async Task<int> LatencyAsync(SimulationSpec spec, TextWriter output)
    {
        var gc = new GcWindow();
        var (result, polls) = await RunOnceAsync(spec, true, gc).ConfigureAwait(false);
        var (paused, collections, seconds) = gc.Measured();
        output.WriteLine(Invariant($"updates:     {polls.Count} polls from the end of boot to the end of the run ({seconds:F1} s)"));
        output.WriteLine(Invariant($"/api/feed:   p50 {At(polls, 0.5):F1} ms, p90 {At(polls, 0.9):F1} ms, p99 {At(polls, 0.99):F1} ms, max {At(polls, 1):F1} ms (target < 200 ms)"));
        var slow = polls.Select((ms, i) => (ms, gc: gc.DuringPolls[i])).Where(p => p.ms >= 200).ToList();
        output.WriteLine(Invariant($"over 200 ms: {slow.Count} of {polls.Count} polls{string.Concat(slow.Select(p => $"; {p.ms:F0} ms with {p.gc:F0} ms of GC pause in it"))}"));
        output.WriteLine(Invariant($"throughput:  {result.AccessesPerSecond / 1e6:F1} M accesses/s, boot {result.BootElapsed.TotalSeconds:F1} s"));
        output.WriteLine(Invariant($"GC while polled: {paused:F0} ms paused in {collections} collections"));
        output.WriteLine(Invariant($"load:        {File.ReadAllText("/proc/loadavg").Trim()}"));
        return polls.Count > 0 && At(polls, 0.5) < 200 ? 0 : 1;
    }

    /// <summary>One run; with <paramref name="served"/>, the page's server and a client polling it as the page does.</summary>
    private static async Task<(SimulationResult Result, List<double> PollMs)> RunOnceAsync(SimulationSpec spec, bool served, GcWindow? gc)
    {
        if (!served)
            return (await new SimulationEngine().RunAsync(spec, null, null, CancellationToken.None).ConfigureAwait(false), []);
        using var session = new LiveSession(new RunDescription("heki simulate (benchmark)", "benchmark", null, spec.Seed, "", [])
        {
            Profiles = [spec.Profile.ToString()],
        });
        await using var server = DashboardServer.Start(session, 0);
        var recorder = session.StartRun(spec);
        var booted = new TaskCompletionSource();
        var progress = new ObservedProgress(new Progress(s =>
        {
            if (s.Phase != "boot")
                booted.TrySetResult();
        }), recorder);
        using var stop = new CancellationTokenSource();
        var run = new SimulationEngine().RunAsync(spec, progress, null, CancellationToken.None);
        await Task.WhenAny(booted.Task, run).ConfigureAwait(false);
        gc?.Start();
        var polls = await PollAsync(server.Url, run, gc?.DuringPolls).ConfigureAwait(false);
        gc?.Stop();
        return (await run.ConfigureAwait(false), polls);
    }

    /// <summary>Polls /api/feed every 500 ms until the run ends, as the page does; returns each update's time in ms.</summary>
    private static async Task<List<double>> PollAsync(Uri url, Task run, List<double>? gcDuring)
    {
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var times = new List<double>();
        string? since = null;
        var counts = new List<(int Epoch, int Count)>();
        while (!run.IsCompleted)
        {
            var clock = Stopwatch.StartNew();
            var paused = GC.GetTotalPauseDuration();
            var body = await http.GetByteArrayAsync(new Uri(url, "api/feed" + (since is null ? "" : "?since=" + since))).ConfigureAwait(false);
            times.Add(clock.Elapsed.TotalMilliseconds);
            gcDuring?.Add((GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
            using var feed = JsonDocument.Parse(body);
            var runs = feed.RootElement.GetProperty("runs");
            for (var r = 0; r < runs.GetArrayLength(); r++)
            {
                var timeline = runs[r].GetProperty("timeline");
                var point = (timeline.GetProperty("epoch").GetInt32(), timeline.GetProperty("count").GetInt32());
                if (r < counts.Count)
                    counts[r] = point;
                else
                    counts.Add(point);
            }

            since = string.Join(',', counts.Select(c => Invariant($"{c.Epoch}:{c.Count}")));
            await Task.WhenAny(Task.Delay(500), run).ConfigureAwait(false);
        }

        return times;
    }

    private static double At(List<double> values, double q)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>A synchronous progress receiver (System's Progress would post to the thread pool).</summary>
    private sealed class Progress(Action<SimulationProgress> report) : IProgress<SimulationProgress>
    {
        public void Report(SimulationProgress value) => report(value);
    }

    /// <summary>GC pauses and collections between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    private sealed class GcWindow
    {
        /// <summary>The GC's pause during each poll, in ms (a slow answer that waited for a collection shows it).</summary>
        public List<double> DuringPolls { get; } = [];

        private TimeSpan _paused;
        private int _collections;
        private Stopwatch? _clock;

        public void Start()
        {
            _paused = GC.GetTotalPauseDuration();
            _collections = GC.CollectionCount(0);
            _clock = Stopwatch.StartNew();
        }

        public void Stop()
        {
            _paused = GC.GetTotalPauseDuration() - _paused;
            _collections = GC.CollectionCount(0) - _collections;
            _clock?.Stop();
        }

        public (double PausedMs, int Collections, double Seconds) Measured() =>
            (_paused.TotalMilliseconds, _collections, _clock?.Elapsed.TotalSeconds ?? 0);
    }
}
