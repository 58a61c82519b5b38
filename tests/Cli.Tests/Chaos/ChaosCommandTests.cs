using System.Text;
using System.Text.Json;
using HekiActors.Cli.Replay;
using HekiActors.Memory;
using Xunit.Abstractions;

namespace HekiActors.Cli.Tests.Chaos;

public sealed class ChaosCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("heki-chaos-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs <c>heki ARGS</c> in this process, its standard output and error collected.</summary>
    internal static (int Status, string Stdout, string Stderr) Run(params string[] args)
    {
        var parse = Program.BuildRoot().Parse(args);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        parse.InvocationConfiguration.Output = stdout;
        parse.InvocationConfiguration.Error = stderr;
        return (Program.Run(parse), stdout.ToString(), stderr.ToString());
    }

    /// <summary>QA 7: chaos reads its options with simulate's bounds and parsers, refusing before anything starts.</summary>
    [Theory]
    [InlineData("--memory-mb", "1", "--memory-mb must be an integer from 16 to")]
    [InlineData("--memory-mb", "15", "--memory-mb must be an integer from 16 to")]
    [InlineData("--rate", "1e-400", "--rate must be a number from 0 to 1 (the probability per request), got 1e-400")]
    [InlineData("--rate", "1.5", "--rate must be a number from 0 to 1")]
    [InlineData("--faults", "drop_request,,delay", "--faults: an empty item in 'drop_request,,delay'")]
    [InlineData("--faults", "drop_request,", "--faults: an empty item in 'drop_request,'")]
    [InlineData("--node-fault-interval", "0s", "--node-fault-interval must be a duration of at least 1s")]
    [InlineData("--node-fault-interval", "500ms", "--node-fault-interval must be a duration of at least 1s")]
    [InlineData("--duration", "1h1h", "--duration must be a duration")]
    public void A_bad_chaos_option_is_refused_naming_it(string option, string value, string expected)
    {
        var report = Path.Combine(_dir, "r.json");

        var (status, stdout, stderr) = option == "--duration"
            ? Run("chaos", "--vms", "1", option, value, "--report", report)
            : Run("chaos", "--vms", "1", "--duration", "1s", option, value, "--report", report);

        Assert.Equal(2, status);
        Assert.Equal("", stdout);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(report));
    }

    [Fact]
    public async Task A_short_heki_v2_run_injects_every_fault_kind_and_every_reproducer_replays_under_heki_v2_only()
    {
        var report = Path.Combine(_dir, "report.json");
        var findings = Path.Combine(_dir, "findings");
        var (status, stdout, stderr) = Run("chaos", "--profile", "heki-v2", "--operations", "400", "--vms", "3", "--rate", "0.03",
            "--seed", "5", "--findings", findings, "--report", report);
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.Equal(0, status);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var run = Assert.Single(json.RootElement.EnumerateArray().ToList());
        Assert.Equal(0, run.GetProperty("invariant_violations").GetInt64());
        foreach (var fault in run.GetProperty("faults").EnumerateObject())
            Assert.True(fault.Value.GetInt64() > 0, fault.Name + " was never injected");
        var reproducers = run.GetProperty("reproducers").EnumerateArray().ToList();
        Assert.NotEmpty(reproducers);
        foreach (var reproducer in reproducers)
        {
            var path = reproducer.GetProperty("path").GetString()!;
            Assert.True(reproducer.GetProperty("shows_under_heki_v2").GetBoolean());
            Assert.False(reproducer.GetProperty("shows_under_hardened").GetBoolean());
            // heki replay itself: the two profiles answer the script differently.
            var rfc = await Replay(path, HekiProfile.HekiV2);
            var hardened = await Replay(path, HekiProfile.Hardened);
            output.WriteLine($"{path}\n{File.ReadAllText(path)}heki-v2:\n{rfc}hardened:\n{hardened}");
            Assert.NotEqual(rfc, hardened);
        }
    }

    [Fact]
    public void A_hardened_run_reports_zero_invariant_violations()
    {
        var (status, stdout, _) = Run("chaos", "--operations", "200", "--vms", "2", "--rate", "0.03", "--findings", Path.Combine(_dir, "f"));
        Assert.Equal(0, status);
        Assert.Contains("0 invariant violations, 0 lost acknowledged changes", stdout);
        Assert.False(Directory.Exists(Path.Combine(_dir, "f")));
    }

    [Theory]
    [InlineData("--faults", "drop_reply,meteor", "unknown fault kind 'meteor'")]
    [InlineData("--rate", "1.5", "--rate must be a number from 0 to 1")]
    [InlineData("--profile", "lenient", "--profile must be hardened, heki-v2 or both")]
    [InlineData("--vms", "0", "--vms must be within 1..10000000")]
    [InlineData("--vms", "100000000", "--vms must be within 1..10000000")]
    [InlineData("--vms", "9000000", "the run needs about")]
    [InlineData("--metrics-port", "70000", "--metrics-port must be a port number from 1 to 65535")]
    [InlineData("--telemetry", "statsd", "--telemetry")]
    [InlineData("--final-scrape-wait", "soon", "--final-scrape-wait")]
    [InlineData("--final-scrape-wait", "5s", "--final-scrape-wait is for a Prometheus endpoint: add --telemetry prometheus or --metrics-port PORT")]
    [InlineData("--faults", "", "--faults needs a value, got ''")]
    [InlineData("--faults", ",,", "--faults: no fault kind given")]
    [InlineData("--report", "", "--report needs a value, got ''")]
    [InlineData("--duration", "200h", "--duration must be a duration from 1ms to 7 days (7d or 168h)")]
    [InlineData("--findings", "/proc/heki-no-such-folder", "--findings cannot write into /proc")]
    [InlineData("--acknowledgements", "/dev/full", "--acknowledgements /dev/full must be a regular file")]
    [InlineData("--seed", "-1", "--seed must be a whole number from 0, got '-1'")]
    [InlineData("--vms", "abc", "--vms must be a whole number, got 'abc'")]
    [InlineData("--rate", "5%", "--rate must be a number (e.g. 0.02), got '5%'")]
    public void Bad_options_are_named_and_nothing_runs(string option, string value, string message)
    {
        var (status, stdout, stderr) = Run("chaos", option, value);
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr);
    }

    [Theory]
    [InlineData("report", "acks", "--report")]
    [InlineData("report", "journal", "--report")]
    [InlineData("acks", "journal", "--acknowledgements")]
    public void An_output_that_would_overwrite_another_file_of_the_run_is_refused_and_nothing_is_written(string first, string second, string named)
    {
        var same = Path.Combine(_dir, "same");
        var args = new List<string> { "chaos", "--operations", "20", "--vms", "1", "--findings", Path.Combine(_dir, "f") };
        foreach (var (role, option) in new[] { ("report", "--report"), ("acks", "--acknowledgements"), ("journal", "--sqlite-path") })
        {
            if (role == first || role == second)
                args.AddRange([option, same]);
        }

        var (status, stdout, stderr) = Run([.. args]);
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal("", stdout);
        Assert.Contains("are the same file", stderr);
        Assert.Contains(named, stderr);
        Assert.False(File.Exists(same), "nothing may be created before the run");
    }

    [Fact]
    public void A_report_that_could_never_be_written_is_refused_before_the_run()
    {
        var (status, _, stderr) = Run("chaos", "--operations", "20", "--vms", "1", "--report", _dir);
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Contains("it is a folder", stderr);
        (status, _, stderr) = Run("chaos", "--operations", "20", "--vms", "1", "--report", Path.Combine(_dir, "missing", "r.json"));
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Contains("does not exist", stderr);
        var file = Path.Combine(_dir, "keep.txt");
        File.WriteAllText(file, "keep");
        (status, _, stderr) = Run("chaos", "--operations", "20", "--vms", "1", "--findings", file);
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Contains("--findings", stderr);
        Assert.Equal("keep", File.ReadAllText(file));
    }

    [Fact]
    public void A_report_on_a_full_disk_is_an_output_failure_naming_the_report_not_a_crash()
    {
        // As Program.Main runs it: an exception is not turned into a status by System.CommandLine.
        var parse = Program.BuildRoot().Parse(["chaos", "--operations", "20", "--vms", "1", "--faults", "none", "--report", "/dev/full"]);
        var configuration = new System.CommandLine.InvocationConfiguration
        {
            Output = new StringWriter(), Error = new StringWriter(), EnableDefaultExceptionHandler = false,
        };
        var failure = Assert.Throws<HekiActors.Cli.Output.OutputFailedException>(() => Program.Run(parse, configuration));
        Assert.Equal("--report /dev/full", failure.Target);
    }

    [Fact]
    public void An_acknowledgement_log_that_is_not_one_is_refused_and_left_unchanged()
    {
        var log = Path.Combine(_dir, "junk.acks");
        File.WriteAllText(log, "not a log\n");
        var (status, stdout, stderr) = Run("chaos", "--operations", "20", "--vms", "1", "--acknowledgements", log);
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal("", stdout);
        Assert.Contains("is not a chaos acknowledgement log", stderr);
        Assert.Contains("junk.acks:1", stderr);
        Assert.Equal("not a log\n", File.ReadAllText(log));
    }

    [Fact]
    public void Report_dash_prints_the_json_report_on_standard_output_instead_of_the_table()
    {
        var (status, stdout, _) = Run("chaos", "--operations", "20", "--vms", "1", "--faults", "none", "--report", "-");
        Assert.Equal(0, status);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("hardened", Assert.Single(json.RootElement.EnumerateArray().ToList()).GetProperty("profile").GetString());
        Assert.False(File.Exists("-"));
    }

    [Fact]
    public void A_metrics_port_in_use_is_named_with_the_reason_and_nothing_runs()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var (status, stdout, stderr) = Run("chaos", "--operations", "5", "--vms", "1", "--metrics-port", $"{port}");

        Assert.Equal(ExitCodes.Failed, status);
        Assert.Equal("", stdout);
        Assert.Contains($"telemetry could not start (Prometheus endpoint 127.0.0.1:{port})", stderr);
        Assert.Contains("in use", stderr);
    }

    [Fact]
    public void A_scenario_file_sets_the_run_and_an_option_on_the_command_line_wins_over_it()
    {
        var scenario = Path.Combine(_dir, "chaos.yaml");
        File.WriteAllText(scenario, "vms: 2\nvcpus: 1\nmemory_mb: 32\nprofile: heki-v2\nseed: 9\nchaos:\n  faults: [drop_reply]\n  rates:\n    duplicate: 0.5\n");

        var (status, stdout, stderr) = Run("chaos", scenario, "--operations", "60", "--report", "-");
        Assert.True(status == 0, stderr);
        var run = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList());
        Assert.Equal("heki-v2", run.GetProperty("profile").GetString());
        Assert.Equal(9UL, run.GetProperty("seed").GetUInt64());
        // Only the kinds the scenario names are injected, each at its own rate (duplicate at 0.5 is surely seen).
        var injected = run.GetProperty("faults").EnumerateObject().Where(f => f.Value.GetInt64() > 0).Select(f => f.Name).ToHashSet();
        Assert.Contains("duplicate", injected);
        Assert.Subset(new HashSet<string> { "drop_reply", "duplicate" }, injected);

        (status, stdout, stderr) = Run("chaos", scenario, "--operations", "60", "--profile", "hardened", "--seed", "3", "--faults", "none", "--report", "-");
        Assert.True(status == 0, stderr);
        run = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList());
        Assert.Equal("hardened", run.GetProperty("profile").GetString());
        Assert.Equal(3UL, run.GetProperty("seed").GetUInt64());
        Assert.Equal(0, run.GetProperty("faults_injected").GetInt64());
    }

    [Fact]
    public void A_bad_scenario_file_is_named_with_its_line_and_nothing_runs()
    {
        var scenario = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(scenario, "vms: 2\nchaos:\n  rate: 7\n");
        var (status, stdout, stderr) = Run("chaos", scenario, "--operations", "20");
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal("", stdout);
        Assert.Contains("bad.yaml:3", stderr);
        Assert.Contains("chaos.rate", stderr);

        (status, _, stderr) = Run("chaos", Path.Combine(_dir, "missing.yaml"), "--operations", "20");
        Assert.Equal(ExitCodes.Usage, status);
        Assert.Contains("missing.yaml", stderr);
    }

    private static async Task<string> Replay(string path, HekiProfile profile)
    {
        var stdout = new StringWriter();
        await ReplayRunner.RunAsync(path, profile, new MemoryStream(), stdout, new StringWriter(), TimeProvider.System);
        return stdout.ToString();
    }
}
