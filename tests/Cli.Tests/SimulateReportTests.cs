using System.Text.Json;
using HekiActors.Simulation;
using HekiActors.Cli.Simulate;
using HekiActors.Memory;

namespace HekiActors.Cli.Tests;

public sealed class SimulateReportTests
{
    private static readonly Scenario Both = Scenario.Default with { Profiles = ProfileChoice.Both };

    private static IReadOnlyList<SimulationResult> Results(Scenario scenario) => scenario.Specs().Select(Samples.Result).ToList();

    private static string Line(string report, string label) =>
        report.Split('\n').Single(l => l.StartsWith(label + " ", StringComparison.Ordinal));

    [Fact]
    public void A_run_with_more_vcpus_than_cores_says_its_latencies_include_queueing()
    {
        var report = ReportWriter.Render(Both, Results(Both), stoppedEarly: false);
        Assert.Contains($"  (slow-path and hypercall latencies include queueing: 600 busy vCPUs share {Environment.ProcessorCount} cores;", report);

        var one = Scenario.Default with { Spec = Scenario.Default.Spec with { Vms = 1, VcpusPerVm = 1 } };
        Assert.DoesNotContain("include queueing", ReportWriter.Render(one, Results(one), stoppedEarly: false));
    }

    [Theory]
    [InlineData(1, "  on a cluster of 1 VM node (the journal is theirs, not the one above)\n")]
    [InlineData(3, "  on a cluster of 3 VM nodes (the journal is theirs, not the one above)\n")]
    public void A_run_on_a_cluster_names_its_node_count_in_the_singular_or_plural(int nodes, string line)
    {
        var one = Scenario.Default with { Profiles = ProfileChoice.Hardened };
        var results = one.Specs().Select(spec => Samples.Result(spec) with
        {
            Nodes = [.. Enumerable.Range(0, nodes).Select(i => new NodeCount($"akka.tcp://heki@127.0.0.1:{4053 + i}", 10, 10))],
        }).ToList();

        Assert.Contains(line, ReportWriter.Render(one, results, stoppedEarly: false));
    }

    [Fact]
    public void The_figures_table_has_a_column_per_profile()
    {
        var report = ReportWriter.Render(Both, Results(Both), stoppedEarly: false);

        Assert.StartsWith("heki simulate: scenario default, seed 1\n", report);
        Assert.Contains("  300 VMs x 2 vCPUs x 1024 MiB, MBEC on, 10 rounds, 20s, journal inmem\n", report);
        Assert.Matches(@"^\s+hardened\s+heki-v2$", report.Split('\n')[3]);
        Assert.Matches(@"^VMs\s+300\s+300$", Line(report, "VMs"));
        Assert.Matches(@"^vCPUs\s+600\s+600$", Line(report, "vCPUs"));
        Assert.Matches(@"^accesses\s+1,002,361\s+1,002,361$", Line(report, "accesses"));
        Assert.Matches(@"^  throughput\s+100\.2 k accesses/s\s+100\.2 k accesses/s$", Line(report, "  throughput"));
        Assert.Matches(@"^workload accesses\s+1,002,006\s", Line(report, "workload accesses"));
        Assert.Matches(@"^attack accesses\s+355\s", Line(report, "attack accesses"));
        Assert.Matches(@"^#PF faults\s+2,345\s", Line(report, "#PF faults"));
        Assert.Matches(@"^CR-pin #GP blocks\s+5\s", Line(report, "CR-pin #GP blocks"));
        Assert.Matches(@"^fast path p50/p90/p99/max\s+35 ns / 60 ns / 120 ns / 900 ns\s+35 ns", Line(report, "fast path p50/p90/p99/max"));
        Assert.Matches(@"^slow path p50/p90/p99/max\s+1\.20 µs / 3\.40 µs / 9\.90 µs / 20\.0 µs", Line(report, "slow path p50/p90/p99/max"));
        Assert.Matches(@"^hypercall p50/p90/p99/max\s+15\.0 µs / 30\.0 µs / 80\.0 µs / 1\.00 ms", Line(report, "hypercall p50/p90/p99/max"));
        Assert.Matches(@"^hypercalls\s+4,200\s", Line(report, "hypercalls"));
        Assert.Matches(@"^  failed\s+17\s", Line(report, "  failed"));
        Assert.Matches(@"^  refused at CPL 3\s+7\s", Line(report, "  refused at CPL 3"));
        Assert.Matches(@"^  by result\s+ok 4,183 eperm 17\s", Line(report, "  by result"));
        // Violations are #PF faults plus CR-pin #GP blocks, as the vocabulary defines them.
        Assert.Matches(@"^violations\s+2,350\s+2,350$", Line(report, "violations"));
        Assert.Matches(@"^immutable rejections\s+600\s+600$", Line(report, "immutable rejections"));
        Assert.Matches(@"^warnings emitted\s+40\s+40$", Line(report, "warnings emitted"));
        Assert.Matches(@"^warnings suppressed\s+0\s+560$", Line(report, "warnings suppressed"));
        Assert.Matches(@"^host-integrity faults\s+0\s+3$", Line(report, "host-integrity faults"));
    }

    [Fact]
    public void The_attack_table_has_a_row_per_kind_and_profile_with_why()
    {
        var report = ReportWriter.Render(Both, Results(Both), stoppedEarly: false);

        Assert.Contains(report.Split('\n'), l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^attack\s+profile\s+attempted\s+blocked\s+succeeded\s+why$"));
        var rows = report.Split('\n').Where(l => l.StartsWith("relax_mutable_then_abuse", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Matches(@"^relax_mutable_then_abuse\s+hardened\s+3,000\s+3,000\s+0$", rows[0]);
        Assert.Matches(@"^relax_mutable_then_abuse\s+heki-v2\s+3,000\s+0\s+3,000\s+heki-v2 drops pure downgrades$", rows[1]);
        foreach (var kind in Enum.GetValues<AttackKind>())
        {
            Assert.Equal(2, report.Split('\n').Count(l => l.StartsWith(kind.Name() + " ", StringComparison.Ordinal) && !l.StartsWith("attack accesses", StringComparison.Ordinal)));
        }

        Assert.Contains("attacks succeeded: hardened 0, heki-v2 3,000\n", report);
    }

    [Fact]
    public void One_profile_gives_one_column_and_empty_latencies_read_na()
    {
        var scenario = Scenario.Default with { Profiles = ProfileChoice.HekiV2 };
        var result = Samples.Result(scenario.Specs()[0]) with { SlowPathNanoseconds = LatencySummary.Empty };

        var report = ReportWriter.Render(scenario, [result], stoppedEarly: true);

        Assert.Contains("(stopped early", report.Split('\n')[0]);
        Assert.Matches(@"^\s+heki-v2$", report.Split('\n')[3]);
        Assert.Matches(@"^slow path p50/p90/p99/max\s+n/a$", Line(report, "slow path p50/p90/p99/max"));
    }

    [Fact]
    public void The_json_report_has_the_documented_fields()
    {
        var scenario = Both with { TelemetryExporters = ["otlp"] };
        using var json = JsonDocument.Parse(JsonReport.Render(scenario, Results(scenario), stoppedEarly: false));
        var root = json.RootElement;

        Assert.Equal(["format", "version", "scenario", "stopped_early", "telemetry_exporters", "telemetry", "runs"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, root.GetProperty("version").GetInt32());
        Assert.Equal("default", root.GetProperty("scenario").GetString());
        Assert.Equal("otlp", root.GetProperty("telemetry_exporters")[0].GetString());
        var runs = root.GetProperty("runs");
        Assert.Equal(["hardened", "heki-v2"], runs.EnumerateArray().Select(r => r.GetProperty("profile").GetString()));

        var run = runs[1];
        Assert.Equal(
            ["profile", "vms", "vms_booted", "vms_resumed", "vms_unfinished", "failure", "vcpus_per_vm", "vcpus_total", "memory_mb_per_vm", "mbec", "rounds", "seed", "duration_seconds",
             "accesses_per_vcpu", "journal", "sqlite_path", "workload", "attack_mix", "elapsed_seconds", "boot_seconds",
             "accesses_per_second", "counts", "latency_ns", "boot_failures", "attacks"],
            run.EnumerateObject().Select(p => p.Name));
        Assert.Equal(300, run.GetProperty("vms").GetInt32());
        Assert.Equal(600, run.GetProperty("vcpus_total").GetInt32());
        Assert.Equal(20, run.GetProperty("duration_seconds").GetDouble());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("accesses_per_vcpu").ValueKind);
        Assert.Equal("inmem", run.GetProperty("journal").GetString());
        Assert.Equal(0.95, run.GetProperty("workload").GetProperty("locality").GetDouble());
        Assert.Equal(1, run.GetProperty("attack_mix").GetProperty("clear_pinned_cr").GetInt32());
        var counts = run.GetProperty("counts");
        // The counts object holds exactly the vocabulary, in its order.
        Assert.Equal(HekiActors.Observability.HekiVocabulary.Counts.Select(c => c.Key), counts.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1_002_361, counts.GetProperty("accesses").GetInt64());
        Assert.Equal(2_345, counts.GetProperty("page_faults").GetInt64());
        Assert.Equal(2_350, counts.GetProperty("violations").GetInt64());
        Assert.Equal(7, counts.GetProperty("hypercalls_refused_cpl").GetInt64());
        Assert.Equal(17, counts.GetProperty("hypercalls_eperm").GetInt64());
        Assert.Equal(100_236.1, run.GetProperty("accesses_per_second").GetDouble());
        Assert.Equal(120, run.GetProperty("latency_ns").GetProperty("fast_path").GetProperty("p99").GetDouble());
        Assert.Equal(["count", "p50", "p90", "p99", "max"],
            run.GetProperty("latency_ns").GetProperty("hypercall").EnumerateObject().Select(p => p.Name));
        Assert.Equal(560, counts.GetProperty("warnings_suppressed").GetInt64());
        Assert.Equal(3, counts.GetProperty("host_integrity_faults").GetInt64());
        Assert.Equal(0, run.GetProperty("boot_failures").GetArrayLength());

        var attacks = run.GetProperty("attacks");
        Assert.Equal(Enum.GetValues<AttackKind>().Select(k => k.Name()), attacks.EnumerateArray().Select(a => a.GetProperty("kind").GetString()));
        var abuse = attacks[(int)AttackKind.RelaxMutableThenAbuse];
        Assert.Equal(3_000, abuse.GetProperty("succeeded").GetInt64());
        Assert.Equal("heki-v2 drops pure downgrades", abuse.GetProperty("why").GetString());
        Assert.Equal(JsonValueKind.Null, attacks[0].GetProperty("why").ValueKind);
    }

    [Fact]
    public void A_vm_without_boot_protection_is_reported_loudly_in_the_table_and_the_json()
    {
        // Issue 8 item 6: hardened -E2BIG at boot leaves the kernel unprotected; "attacks succeeded" alone says nothing why.
        var scenario = Scenario.Default;
        var failure = new BootFailureGroup("PROTECT_MEMORY returned -E2BIG: the boot list needs 1,036 list pages (2,800,000 MiB of guest memory); hardened refuses more than 1,024",
            "e2big", 300, "sim-00000");
        var sample = Samples.Result(scenario.Specs()[0]);
        var result = sample with { Counts = sample.Counts with { BootProtectionFailures = 300 }, BootFailures = [failure] };

        var report = ReportWriter.Render(scenario, [result], stoppedEarly: false);
        Assert.Matches(@"^boot protection failures\s+300$", Line(report, "boot protection failures"));
        Assert.Contains("WARNING: hardened: 300 VMs run without kernel protection (e.g. sim-00000): PROTECT_MEMORY returned -E2BIG", report);
        Assert.Contains("(VMs without boot protection: hardened 300)", report);

        using var json = JsonDocument.Parse(JsonReport.Render(scenario, [result], stoppedEarly: false));
        var run = json.RootElement.GetProperty("runs")[0];
        Assert.Equal(300, run.GetProperty("counts").GetProperty("boot_protection_failures").GetInt64());
        var group = Assert.Single(run.GetProperty("boot_failures").EnumerateArray());
        Assert.Equal("e2big", group.GetProperty("result").GetString());
        Assert.Equal(300, group.GetProperty("vms").GetInt64());
        Assert.Equal("sim-00000", group.GetProperty("first_vm").GetString());
        Assert.Contains("1,024", group.GetProperty("reason").GetString());
    }

    [Fact]
    public void The_json_report_writes_the_full_u64_seed()
    {
        var scenario = Scenario.Default with { Spec = Scenario.Default.Spec with { Seed = ulong.MaxValue } };

        using var json = JsonDocument.Parse(JsonReport.Render(scenario, Results(scenario), stoppedEarly: false));

        Assert.Equal(ulong.MaxValue, json.RootElement.GetProperty("runs")[0].GetProperty("seed").GetUInt64());
    }

    [Theory]
    [InlineData("20s", 20)]
    [InlineData("2m", 120)]
    [InlineData("1m30s", 90)]
    [InlineData("500ms", 0.5)]
    [InlineData("1h", 3600)]
    [InlineData("1.5", 1.5)]
    [InlineData("1h30m", 5400)]
    [InlineData("1d", 86400)]
    [InlineData("7d", 604800)]
    [InlineData("1d1h1m1s500ms", 90061.5)]
    public void Durations_parse_and_format_back(string text, double seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
        Assert.True(DurationText.TryParse(DurationText.Format(duration), out var again));
        Assert.Equal(duration, again);
    }

    /// <summary>QA 7: a repeated or misordered unit is a typo, not a sum; white space is no part of a duration.</summary>
    [Theory]
    [InlineData("1h1h")]
    [InlineData("1m1m")]
    [InlineData("30s20s")]
    [InlineData("1s1m")]
    [InlineData("500ms1s")]
    [InlineData("1d1d")]
    [InlineData(" 1s")]
    [InlineData("1s ")]
    [InlineData(" 1")]
    [InlineData("1m 30s")]
    [InlineData("8d")]
    [InlineData("1w")]
    public void A_duration_with_a_repeated_or_misordered_unit_or_white_space_is_refused(string text) =>
        Assert.False(DurationText.TryParse(text, out _));

    /// <summary>QA 7: durations read the way users write them (168h, not 10080m).</summary>
    [Theory]
    [InlineData(604800, "168h")]
    [InlineData(5400, "1h30m")]
    [InlineData(3661, "1h1m1s")]
    [InlineData(3600, "1h")]
    [InlineData(90, "1m30s")]
    [InlineData(120, "2m")]
    [InlineData(1.5, "1.5s")]
    public void A_duration_is_shown_in_the_largest_units(double seconds, string shown) =>
        Assert.Equal(shown, DurationText.Format(TimeSpan.FromSeconds(seconds)));

    /// <summary>QA 7: "1 VMs x 1 vCPUs": a count of one takes the singular, everywhere counts are written with nouns.</summary>
    [Fact]
    public void A_count_of_one_takes_the_singular()
    {
        Assert.Equal("1 VM", ReportFormat.Count(1, "VM"));
        Assert.Equal("0 VMs", ReportFormat.Count(0, "VM"));
        Assert.Equal("10,000 vCPUs", ReportFormat.Count(10_000, "vCPU"));
        Assert.Equal("2 accesses", ReportFormat.Count(2, "access", "accesses"));
        var spec = Scenario.Default.Spec with { Vms = 1, VcpusPerVm = 1, Rounds = 1 };
        Assert.StartsWith("1 VM x 1 vCPU x ", ReportWriter.Describe(spec), StringComparison.Ordinal);
        Assert.Contains("1 VM × (64 KiB + 1 vCPU × 80 KiB", RunMemoryEstimate.For(1, 1, 64).Problem(1, 1, 1), StringComparison.Ordinal);
    }
}
