using System.Text.Json;
using HekiActors.Actors.Hosting;
using HekiActors.Simulation;
using HekiActors.Memory;

namespace HekiActors.Cli.Tests;

public sealed class SimulateCommandTests
{
    [Fact]
    public void No_arguments_runs_the_default_scenario_once_and_prints_the_report()
    {
        var engine = new FakeSimulationEngine();

        var (code, output, error) = Samples.Run(engine, "--no-progress");

        Assert.Equal(0, code);
        var spec = Assert.Single(engine.Runs);
        Assert.Equal(SimulationSpec.Default(HekiProfile.Hardened), spec);
        Assert.Contains("heki simulate: scenario default, seed 1", output);
        Assert.Equal("", error);
    }

    [Fact]
    public void Options_override_the_file()
    {
        using var folder = new TempFolder();
        var file = folder.File("base.yaml", "vms: 5\nvcpus: 3\nseed: 9\nprofile: heki-v2\nmbec: true\nduration: 5s\nrounds: 4\n");
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, file, "--no-progress", "--kernel", "synthetic", "--vms", "8", "--vcpus", "1", "--memory-mb", "64",
            "--profile", "hardened", "--no-mbec", "--accesses-per-vcpu", "1000", "--rounds", "2", "--seed", "77",
            "--journal", "sqlite", "--sqlite-path", Path.Combine(folder.Path, "j.db"));

        Assert.True(code == 0, error);
        var spec = Assert.Single(engine.Runs);
        Assert.Equal(8, spec.Vms);
        Assert.Equal(1, spec.VcpusPerVm);
        Assert.Equal(64UL, spec.MemoryMbPerVm);
        Assert.Equal(HekiProfile.Hardened, spec.Profile);
        Assert.False(spec.Mbec);
        Assert.Null(spec.Duration); // --accesses-per-vcpu alone replaces the file's duration bound
        Assert.Equal(1000L, spec.AccessesPerVcpu);
        Assert.Equal(2, spec.Rounds);
        Assert.Equal(77UL, spec.Seed);
        Assert.Equal(JournalKind.Sqlite, spec.Journal);
        Assert.Equal(Path.Combine(folder.Path, "j.db"), spec.SqlitePath);
    }

    [Theory]
    [InlineData("--mbec", true)]
    [InlineData("--mbec=false", false)]
    [InlineData("--no-mbec", false)]
    public void Mbec_flags(string flag, bool expected)
    {
        var engine = new FakeSimulationEngine();

        Assert.Equal(0, Samples.Run(engine, "--no-progress", "--duration", "2m", flag).Code);

        Assert.Equal(expected, engine.Runs[0].Mbec);
        Assert.Equal(TimeSpan.FromMinutes(2), engine.Runs[0].Duration);
    }

    [Theory]
    [InlineData("--vms -3", "--vms must be an integer from 1 to 10000000, got -3")]
    [InlineData("--vms 0", "--vms must be an integer from 1 to 10000000, got 0")]
    [InlineData("--vms lots", "--vms must be an integer from 1 to 10000000, got lots")]
    [InlineData("--vcpus 5000", "--vcpus must be an integer from 1 to 4096, got 5000")]
    [InlineData("--memory-mb 1", "--memory-mb must be an integer from 16 to 17592186044416 (MiB), got 1")]
    [InlineData("--accesses-per-vcpu -1", "--accesses-per-vcpu must be an integer from 1 to 9223372036854775807, got -1")]
    [InlineData("--rounds 0", "--rounds must be an integer from 1 to 2147483647, got 0")]
    [InlineData("--seed -1", "--seed must be an integer from 0")]
    [InlineData("--profile fast", "--profile must be one of hardened, heki-v2 or both, got fast")]
    [InlineData("--journal redis", "--journal must be inmem or sqlite, got redis")]
    [InlineData("--duration 10x", "--duration must be a duration from 1ms to 7 days")]
    [InlineData("--duration -5s", "--duration must be a duration from 1ms to 7 days")]
    [InlineData("--vms", "--vms needs a value")]
    [InlineData("--mbec --no-mbec", "--mbec and --no-mbec contradict each other")]
    [InlineData("--sqlite-path a.db --journal inmem", "--sqlite-path needs --journal sqlite")]
    [InlineData("--frobnicate", "unknown option '--frobnicate'")]
    [InlineData("--vmz 3", "unknown option '--vmz'")]
    [InlineData("a.yaml b.yaml", "unexpected argument 'b.yaml'")]
    [InlineData("missing.yaml", "missing.yaml: cannot read the scenario file")]
    [InlineData("--record -", "--record needs a file name")]
    [InlineData("--report /no/such/folder/r.json", "--report cannot write /no/such/folder/r.json")]
    public void Bad_options_exit_2_name_the_option_and_run_nothing(string args, string expected)
    {
        var engine = new FakeSimulationEngine();

        var (code, output, error) = Samples.Run(engine, args.Split(' '));

        Assert.Equal(2, code);
        Assert.Contains("heki simulate: " + expected, error);
        Assert.Empty(engine.Runs);
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData("bad.yaml", "vms: 3\nvcpus: two\n", "bad.yaml:2: key \"vcpus\" must be an integer from 1 to 4096, got \"two\"")]
    [InlineData("bad.yaml", "vms: 3\nextra: 1\n", "bad.yaml:2: unknown key \"extra\"")]
    [InlineData("bad.yaml", "vms: -3\n", "bad.yaml:1: key \"vms\" must be an integer from 1 to 10000000, got -3")]
    [InlineData("bad.yaml", "profile: v3\n", "bad.yaml:1: key \"profile\" must be one of hardened, heki-v2 or both, got \"v3\"")]
    [InlineData("bad.yaml", "vms: [3\n", "bad.yaml:2: malformed YAML")]
    [InlineData("bad.json", "{\"vms\": 3,,}", "bad.json:1: malformed JSON")]
    public void A_bad_scenario_file_exits_2_with_key_and_line_and_the_engine_is_never_called(string name, string text, string expected)
    {
        using var folder = new TempFolder();
        var file = folder.File(name, text);
        var engine = new FakeSimulationEngine();

        // The options are fine: the file's error must still stop the run.
        var (code, output, error) = Samples.Run(engine, file, "--vms", "4", "--no-progress");

        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(folder.Path, expected), error);
        Assert.Empty(engine.Runs);
        Assert.Equal("", output);
    }

    [Fact]
    public void Both_runs_the_engine_twice_once_per_profile_and_reports_side_by_side()
    {
        var engine = new FakeSimulationEngine();

        var (code, output, _) = Samples.Run(engine, "--profile", "both", "--vms", "10", "--no-progress");

        Assert.Equal(0, code);
        Assert.Equal([HekiProfile.Hardened, HekiProfile.HekiV2], engine.Runs.Select(s => s.Profile));
        Assert.All(engine.Runs, s => Assert.Equal(10, s.Vms));
        Assert.Equal(engine.Runs[0] with { Profile = HekiProfile.HekiV2 }, engine.Runs[1]);
        var header = output.Split('\n').First(l => l.Contains("hardened") && l.Contains("heki-v2"));
        Assert.True(header.IndexOf("hardened", StringComparison.Ordinal) < header.IndexOf("heki-v2", StringComparison.Ordinal));
    }

    [Fact]
    public void Both_with_sqlite_gives_each_profile_its_own_journal()
    {
        var engine = new FakeSimulationEngine();

        Samples.Run(engine, "--profile", "both", "--journal", "sqlite", "--no-progress");

        Assert.Equal(["heki-simulate.hardened.db", "heki-simulate.heki-v2.db"], engine.Runs.Select(s => s.SqlitePath));
    }

    [Fact]
    public void Record_writes_a_header_and_the_engines_lines_one_file_per_profile_with_both()
    {
        using var folder = new TempFolder();
        var record = folder.File("run.jsonl");
        var engine = new FakeSimulationEngine { RecordedLinesPerRun = 4 };

        var (code, _, error) = Samples.Run(engine, "--profile", "both", "--seed", "5", "--record", record, "--no-progress");

        Assert.Equal(0, code);
        Assert.False(File.Exists(record));
        foreach (var profile in new[] { "hardened", "heki-v2" })
        {
            var path = folder.File($"run.{profile}.jsonl");
            var lines = File.ReadAllLines(path);
            Assert.Equal(5, lines.Length);
            Assert.StartsWith($"# heki simulate: scenario default, seed 5, profile {profile},", lines[0]);
            Assert.All(lines.Skip(1), l => Assert.StartsWith("{\"op\":\"read_cr\"", l));
            Assert.Contains($"recorded 4 operations to {path}", error);
        }
    }

    [Fact]
    public void Record_with_one_profile_writes_exactly_the_named_file()
    {
        using var folder = new TempFolder();
        var record = folder.File("one.jsonl");

        Assert.Equal(0, Samples.Run(new FakeSimulationEngine(), "--record", record, "--no-progress").Code);

        Assert.Equal(4, File.ReadAllLines(record).Length);
    }

    [Fact]
    public void Report_file_gets_the_json_and_the_table_still_prints()
    {
        using var folder = new TempFolder();
        var report = folder.File("r.json");

        var (code, output, error) = Samples.Run(new FakeSimulationEngine(), "--report", report, "--profile", "both", "--no-progress");

        Assert.Equal(0, code);
        Assert.Contains("attack", output);
        Assert.Contains("report written to " + report, error);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        Assert.Equal(2, json.RootElement.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public void Report_dash_prints_json_instead_of_the_table()
    {
        var (code, output, _) = Samples.Run(new FakeSimulationEngine(), "--report", "-", "--no-progress");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("heki-simulate-report", json.RootElement.GetProperty("format").GetString());
    }

    [Fact]
    public void Progress_goes_to_standard_error_as_plain_lines_when_not_a_terminal()
    {
        var (code, output, error) = Samples.Run(new FakeSimulationEngine(), "--vms", "4");

        Assert.Equal(0, code);
        Assert.Contains("boot", error);
        Assert.Contains("workload", error);
        Assert.DoesNotContain("\r", error);
        Assert.DoesNotContain("VMs 4/4", output);
    }

    [Fact]
    public void An_engine_failure_exits_1_with_its_message()
    {
        var engine = new FakeSimulationEngine { Throw = new InvalidOperationException("actor system would not start") };

        var (code, output, error) = Samples.Run(engine, "--no-progress");

        Assert.Equal(1, code);
        Assert.Contains("the simulation failed: InvalidOperationException: actor system would not start", error);
        Assert.Equal("", output);
    }

    [Fact]
    public void A_cluster_that_cannot_be_joined_is_named_in_one_line_without_an_exception_type()
    {
        const string says = "could not join the cluster at akka.tcp://heki@127.0.0.1:1 within 60 s (is a heki node running there?)";
        var engine = new FakeSimulationEngine { Throw = new TimeoutException(says) };

        var (code, output, error) = Samples.Run(engine, "--no-progress");

        Assert.Equal(1, code);
        Assert.Equal($"heki simulate: {says}", error.Trim());
        Assert.Equal("", output);
    }

    [Fact]
    public void A_cluster_run_says_at_once_which_seed_it_joins_and_then_why_it_could_not()
    {
        const string seed = "akka.tcp://heki@127.0.0.1:1";
        var engine = new FakeSimulationEngine { Throw = new TimeoutException($"could not join the cluster at {seed} within 60 s (is a heki node running there?)") };

        var (code, output, error) = Samples.Run(engine, "--cluster", seed, "--no-progress");

        Assert.Equal(1, code);
        Assert.Equal([$"heki simulate: joining the cluster at {seed} (up to 60 s)", $"heki simulate: could not join the cluster at {seed} within 60 s (is a heki node running there?)"],
            error.TrimEnd('\n').Split('\n'));
        Assert.Equal("", output);
    }

    [Fact]
    public void The_real_program_registers_simulate()
    {
        var root = Program.BuildRoot();

        Assert.Contains(root.Subcommands, c => c.Name == "simulate");
    }
}
