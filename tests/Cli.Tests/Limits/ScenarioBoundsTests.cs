using System.Text;
using HekiActors.Cli.Simulate;
using HekiActors.Memory;
using HekiActors.Simulation;
using HekiActors.Simulation.Guest;

namespace HekiActors.Cli.Tests.Limits;

/// <summary>
/// issue 8, items 5, 7 and 8 in-process: every numeric key and option has documented bounds, a value that rounds to
/// nothing is refused, the scenario reader is bounded, and the memory estimate follows the model's shape.
/// </summary>
public sealed class ScenarioBoundsTests
{
    private static string ParseError(string text, string name = "s.yaml") =>
        Assert.Throws<UsageException>(() => ScenarioFile.Parse(text, name)).Message;

    [Theory]
    [InlineData("vms: 10000001\n", "key \"vms\" must be an integer from 1 to 10000000, got 10000001")]
    [InlineData("vms: 2147483648\n", "key \"vms\" must be an integer from 1 to 10000000, got 2147483648")]
    [InlineData("vcpus: 4097\n", "key \"vcpus\" must be an integer from 1 to 4096, got 4097")]
    [InlineData("memory_mb: 17592186044417\n", "key \"memory_mb\" must be an integer from 16 to 17592186044416 (MiB), got 17592186044417")]
    [InlineData("memory_mb: 72057594037927936\n", "key \"memory_mb\" must be an integer from 16 to 17592186044416 (MiB)")]
    [InlineData("rounds: 2147483648\n", "key \"rounds\" must be an integer from 1 to 2147483647, got 2147483648")]
    [InlineData("accesses_per_vcpu: 9223372036854775808\n", "key \"accesses_per_vcpu\" must be an integer from 1 to 9223372036854775807")]
    [InlineData("attacks:\n  write_kernel_text: 2147483648\n", "key \"attacks.write_kernel_text\" must be an integer from 0 to 2147483647")]
    [InlineData("duration: 0.0000001s\n", "key \"duration\" must be a duration from 1ms to 7 days")]
    [InlineData("duration: 0.5ms\n", "key \"duration\" must be a duration from 1ms to 7 days")]
    [InlineData("duration: 1e-400\n", "key \"duration\" must be a duration from 1ms to 7 days")]
    [InlineData("duration: 169h\n", "key \"duration\" must be a duration from 1ms to 7 days")]
    [InlineData("duration: .nan\n", "key \"duration\" must be a duration from 1ms to 7 days")]
    [InlineData("workload:\n  locality: 1e-400\n", "key \"workload.locality\" must be 0 or a number from 1/65536 (0.0000153) to 1, got 1e-400")]
    [InlineData("workload:\n  user_mode: 0.000001\n", "key \"workload.user_mode\" must be 0 or a number from 1/65536")]
    [InlineData("workload:\n  read: 1e-400\n", "key \"workload.read\" must be a number from 0 to 1000000, got 1e-400")]
    [InlineData("workload:\n  read: 1e308\n  write: 1e308\n", "key \"workload.read\" must be a number from 0 to 1000000, got 1e308")]
    [InlineData("workload:\n  read: .inf\n", "key \"workload.read\" must be a number from 0 to 1000000, got .inf")]
    [InlineData("workload:\n  exec: 0.000000001\n", "key \"workload.exec\" (1E-09) is below 1/65536 of the total weight")]
    public void A_value_out_of_bounds_or_that_rounds_to_nothing_is_refused(string text, string expected)
    {
        Assert.Contains("s.yaml:", ParseError(text));
        Assert.Contains(expected, ParseError(text));
    }

    [Theory]
    [InlineData("workload:\n  locality: 0\n  user_mode: 0.0\n  exec: 0e5\n")]
    [InlineData("workload:\n  locality: 0.0000153\n  user_mode: 1\n")]
    [InlineData("duration: 1ms\n")]
    [InlineData("duration: 168h\nrounds: 1000\n")]
    [InlineData("vms: 1\nmemory_mb: 17592186044416\n")]
    public void Values_at_the_bounds_are_read(string text)
    {
        ScenarioFile.Parse(text, "edge.yaml");
    }

    [Theory]
    [InlineData("--duration 0.0009", "--duration must be a duration from 1ms to 7 days")]
    [InlineData("--trace-ratio 1e-10", "--trace-ratio must be 0 or a number from 1e-9 to 1, got 1e-10")]
    [InlineData("--trace-ratio -0", "--trace-ratio must be 0 or a number from 1e-9 to 1, got -0")]
    [InlineData("--fastpath-span-ratio 1e-400", "--fastpath-span-ratio must be 0 or a number from 1e-9 to 1, got 1e-400")]
    [InlineData("--memory-mb +64", "--memory-mb must be an integer from 16 to 17592186044416 (MiB), got +64")]
    [InlineData("--seed 18446744073709551616", "--seed must be an integer from 0 to 18446744073709551615")]
    [InlineData("--accesses-per-vcpu 5", "rounds (10) must not exceed accesses per vCPU (5): every round runs at least one access on each vCPU")]
    [InlineData("--duration 5ms", "rounds (10) must leave each round at least 1ms of the duration (0.005s): at most 5 rounds")]
    public void A_bad_option_value_is_refused_before_the_engine_runs(string args, string expected)
    {
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, [.. args.Split(' '), "--no-progress"]);

        Assert.Equal(2, code);
        Assert.Contains("heki simulate: " + expected, error);
        Assert.Empty(engine.Runs);
    }

    [Fact]
    public void The_limits_name_each_combination_they_refuse()
    {
        var scenario = Scenario.Default with { Spec = Scenario.Default.Spec with { Rounds = 30_000 } };

        var error = Assert.Throws<UsageException>(() => ScenarioLimits.Check(scenario, long.MaxValue)).Message;

        Assert.Equal("rounds (30000) must leave each round at least 1ms of the duration (20s): at most 20000 rounds", error);
        ScenarioLimits.Check(Scenario.Default, availableBytes: 1L << 30);
    }

    [Fact]
    public void A_run_that_does_not_fit_is_refused_with_its_estimate_and_the_memory_available()
    {
        var scenario = Scenario.Default with { Spec = Scenario.Default.Spec with { Vms = 10_000, VcpusPerVm = 16 } };

        var error = Assert.Throws<UsageException>(() => ScenarioLimits.Check(scenario, availableBytes: 4L << 30)).Message;

        Assert.Equal("the run needs about 13 GiB of memory but 4.0 GiB is available: 80 MiB + 72 protected ranges × 200 B + "
            + "10,000 VMs × (64 KiB + 16 vCPUs × 80 KiB + 72 ranges × 600 B); use fewer VMs or vCPUs, or less memory per VM "
            + "(docs/reliability.md, \"Limits\")", error);
    }

    [Theory]
    // Measured peaks (Release, /usr/bin/time -f %M, 20,000 accesses per vCPU, 2 rounds, hardened unless the boot list
    // needs more than 1,024 pages: heki-v2 then, which stores every range); the estimate lies above each.
    [InlineData(1, 1, 16UL, 76_284)]
    [InlineData(1, 4096, 64UL, 237_644)]
    [InlineData(8000, 1, 16UL, 1_125_996)]
    [InlineData(500, 32, 16UL, 1_230_672)]
    [InlineData(1000, 32, 64UL, 2_531_012)]
    [InlineData(300, 2, 1024UL, 145_416)]
    [InlineData(200, 2, 131072UL, 907_164)]
    [InlineData(10, 1, 1048576UL, 455_560)]
    [InlineData(40, 2, 1048576UL, 1_328_264)]
    [InlineData(1, 1, 4194304UL, 263_228)]
    [InlineData(1, 1, 20000000UL, 888_320)]
    [InlineData(4, 1, 20000000UL, 2_865_676)]
    [InlineData(1, 1, 100000000UL, 3_809_072)]
    public void The_estimate_covers_every_measured_run_within_a_margin(int vms, int vcpus, ulong memoryMb, long measuredKb)
    {
        var spec = SimulationSpec.Default() with { Vms = vms, VcpusPerVm = vcpus, MemoryMbPerVm = memoryMb };

        var estimate = RunMemoryEstimate.For(spec).Bytes;

        var measured = measuredKb * 1024.0;
        Assert.InRange(estimate, measured, measured * 1.8);
    }

    [Fact]
    public void The_estimate_counts_the_gen0_budget_the_run_has()
    {
        var spec = SimulationSpec.Default();
        const long budget = 128L << 20;

        var estimate = RunMemoryEstimate.For(spec, budget);

        // The default run peaks at 173 MiB with heki's 128 MiB budget (docs/reliability.md), 119 MiB without.
        Assert.InRange(estimate.Bytes, 173.0 * (1 << 20), 1.8 * 173 * (1 << 20));
        Assert.Equal(RunMemoryEstimate.For(spec).Bytes + budget, estimate.Bytes);
        Assert.Contains("80 MiB + 128 MiB gen0 budget + ", estimate.Problem(spec.Vms, spec.VcpusPerVm, 1));
    }

    [Theory]
    [InlineData(16UL)]
    [InlineData(64UL)]
    [InlineData(1024UL)]
    [InlineData(3000UL)]
    [InlineData(131072UL)]
    public void Boot_ranges_are_computed_without_the_layout_and_match_it(ulong memoryMb)
    {
        var actual = GuestKernel.Coalesce(KernelLayout.For(VmConfig.PagesOf(memoryMb)).Sections).Length;

        Assert.InRange(RunMemoryEstimate.BootRanges(memoryMb), actual, actual + 8);
    }

    [Fact]
    public void Pages_of_a_size_beyond_the_address_space_are_refused_not_wrapped()
    {
        Assert.Equal(1UL << 52, VmConfig.PagesOf(VmConfig.MaxMemoryMb));
        Assert.Throws<ArgumentOutOfRangeException>(() => VmConfig.PagesOf(72057594037927936));
        Assert.Throws<ArgumentOutOfRangeException>(() => VmConfig.FromMegabytes(72057594037927952, 1));
    }

    [Theory]
    [InlineData("a: &x 1\n", "s.yaml:1: YAML anchors (&x) are not supported in scenario files")]
    [InlineData("a: [1]\nb: *x\n", "s.yaml:2: YAML aliases (*x) are not supported in scenario files")]
    [InlineData("vms: !!str 3\n", "s.yaml:1: YAML tags (tag:yaml.org,2002:str) are not supported in scenario files")]
    [InlineData("vms: [1\nvcpus: 2\n", "s.yaml:2: malformed YAML: the parser cannot read on from here")]
    [InlineData("vms: 3\nprofile: \"h\\u0000\\n\"\n", "s.yaml:2: key \"profile\" must be one of hardened, heki-v2 or both, got \"h\\u0000\\u000a\"")]
    public void Yaml_features_a_scenario_needs_none_of_are_refused_with_their_line(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text));
    }

    [Fact]
    public void A_long_value_is_quoted_as_an_excerpt()
    {
        var error = ParseError("profile: " + new string('x', 100_000) + "\n");

        Assert.Equal("s.yaml:1: key \"profile\" must be one of hardened, heki-v2 or both, got \"" + new string('x', 40) + "...\"", error);
    }

    [Theory]
    [InlineData("{\"vms\": \"\\ud800\"}", "s.json:1: malformed JSON: a string is not valid Unicode (a lone surrogate escape)")]
    [InlineData("{\"\\udc00\": 1}", "s.json:1: malformed JSON: a string is not valid Unicode (a lone surrogate escape)")]
    public void A_json_string_that_is_not_unicode_is_malformed(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text, "s.json"));
    }

    [Fact]
    public void A_byte_order_mark_is_read_and_invalid_UTF8_is_refused_with_its_line()
    {
        Assert.Equal(7, ScenarioFile.Parse([0xEF, 0xBB, 0xBF, .. "vms: 7\n"u8], "bom.yaml").Spec.Vms);
        Assert.Equal(7, ScenarioFile.Parse([0xEF, 0xBB, 0xBF, .. "{\"vms\": 7}"u8], "bom.json").Spec.Vms);
        var error = Assert.Throws<UsageException>(() => ScenarioFile.Parse([.. "vms: 7\n# caf"u8, 0xE9, .. "\n"u8], "latin1.yaml")).Message;
        Assert.Equal("latin1.yaml:2: the file is not valid UTF-8 (byte 0xE9)", error);
    }

    [Theory]
    [InlineData("flow.yaml")]
    [InlineData("block.yaml")]
    [InlineData("flow.json")]
    public void A_file_of_a_million_tiny_values_stops_at_the_value_cap_in_bounded_memory(string name)
    {
        var text = name switch
        {
            "flow.yaml" => "a: [" + string.Concat(Enumerable.Repeat("[],", 300_000)) + "]\n",
            "block.yaml" => "a:\n" + string.Concat(Enumerable.Repeat("-\n", 300_000)),
            _ => "{\"a\": [" + string.Concat(Enumerable.Repeat("[],", 300_000)) + "[]]}",
        };
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = ParseError(text, name);

        Assert.Contains(": more than 10,000 values; a scenario needs a few dozen", error);
        // Without the cap the YAML parser's events and the tree cost 230 bytes per byte of such a file: 200 MB.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 24L << 20);
    }

    [Fact]
    public void A_file_over_the_size_cap_is_refused_before_it_is_parsed()
    {
        var bytes = Encoding.UTF8.GetBytes("vms: 3\n" + new string('#', ScenarioFile.MaxFileBytes));

        Assert.Equal("big.yaml: a scenario file must not exceed 1,048,576 bytes, got 1,048,583", Assert.Throws<UsageException>(() => ScenarioFile.Parse(bytes, "big.yaml")).Message);
    }
}
