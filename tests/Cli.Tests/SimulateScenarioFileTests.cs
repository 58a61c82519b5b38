using HekiActors.Actors.Hosting;
using HekiActors.Simulation;
using HekiActors.Cli.Simulate;
using HekiActors.Protocol;

namespace HekiActors.Cli.Tests;

public sealed class SimulateScenarioFileTests
{
    private const string EveryKeyYaml = """
        # every key, none at its default
        vms: 12
        vcpus: 4
        memory_mb: 2048
        profile: heki-v2
        mbec: false
        duration: 1m30s
        accesses_per_vcpu: 5000
        rounds: 3
        seed: 18446744073709551615
        workload:
          read: 1
          write: 2.5
          exec: 0
          user_mode: 0.5
          locality: 0.25
        attacks:
          write_kernel_text: 2
          write_rodata: 3
          execute_data: 4
          relax_immutable: 5
          relax_mutable_then_abuse: 6
          clear_pinned_cr: 0
        journal:
          kind: sqlite
          path: /tmp/x.db
        telemetry:
          exporters: [otlp, prometheus, console]
        """;

    private const string EveryKeyJson = """
        {
          // comments are allowed in JSON scenarios
          "vms": 12, "vcpus": 4, "memory_mb": 2048, "profile": "heki-v2", "mbec": false,
          "duration": "1m30s", "accesses_per_vcpu": 5000, "rounds": 3, "seed": 18446744073709551615,
          "workload": { "read": 1, "write": 2.5, "exec": 0, "user_mode": 0.5, "locality": 0.25 },
          "attacks": { "write_kernel_text": 2, "write_rodata": 3, "execute_data": 4, "relax_immutable": 5,
                       "relax_mutable_then_abuse": 6, "clear_pinned_cr": 0 },
          "journal": { "kind": "sqlite", "path": "/tmp/x.db" },
          "telemetry": { "exporters": ["otlp", "prometheus", "console"] },
        }
        """;

    [Theory]
    [InlineData("every.yaml")]
    [InlineData("every.yml")]
    [InlineData("every.json")]
    public void Every_key_is_read(string fileName)
    {
        var scenario = ScenarioFile.Parse(fileName.EndsWith(".json") ? EveryKeyJson : EveryKeyYaml, fileName);

        Assert.Equal("every", scenario.Name);
        Assert.Equal(ProfileChoice.HekiV2, scenario.Profiles);
        Assert.Equal(["otlp", "prometheus", "console"], scenario.TelemetryExporters);
        var spec = scenario.Spec;
        Assert.Equal(12, spec.Vms);
        Assert.Equal(4, spec.VcpusPerVm);
        Assert.Equal(2048UL, spec.MemoryMbPerVm);
        Assert.False(spec.Mbec);
        Assert.Equal(TimeSpan.FromSeconds(90), spec.Duration);
        Assert.Equal(5000L, spec.AccessesPerVcpu);
        Assert.Equal(3, spec.Rounds);
        Assert.Equal(ulong.MaxValue, spec.Seed);
        Assert.Equal(new WorkloadMix(1, 2.5, 0, 0.5, 0.25), spec.Workload);
        Assert.Equal(new AttackMix(2, 3, 4, 5, 6, 0), spec.Attacks);
        Assert.Equal(JournalKind.Sqlite, spec.Journal);
        Assert.Equal("/tmp/x.db", spec.SqlitePath);
    }

    [Theory]
    [InlineData("empty.yaml", "")]
    [InlineData("comments.yaml", "# nothing but a comment\n")]
    [InlineData("empty.json", "{}")]
    [InlineData("blank.json", "  \n")]
    public void An_empty_file_keeps_every_default(string fileName, string text)
    {
        var scenario = ScenarioFile.Parse(text, fileName);

        Assert.Equal(Scenario.Default.Spec, scenario.Spec);
        Assert.Equal(ProfileChoice.Hardened, scenario.Profiles);
        Assert.Empty(scenario.TelemetryExporters);
    }

    [Fact]
    public void The_default_scenario_is_the_contract_default()
    {
        Assert.Equal(SimulationSpec.Default(), Scenario.Default.Spec);
        Assert.Equal(300, Scenario.Default.Spec.Vms);
        Assert.Equal(TimeSpan.FromSeconds(20), Scenario.Default.Spec.Duration);
        Assert.Equal(JournalKind.InMemory, Scenario.Default.Spec.Journal);
    }

    [Fact]
    public void Keys_left_out_keep_their_defaults_and_sections_merge()
    {
        var scenario = ScenarioFile.Parse("vms: 7\nworkload:\n  write: 0.9\nattacks:\n  execute_data: 0\n", "partial.yaml");

        Assert.Equal(7, scenario.Spec.Vms);
        Assert.Equal(SimulationSpec.Default().VcpusPerVm, scenario.Spec.VcpusPerVm);
        Assert.Equal(WorkloadMix.Default with { Write = 0.9 }, scenario.Spec.Workload);
        Assert.Equal(AttackMix.Default with { ExecuteData = 0 }, scenario.Spec.Attacks);
    }

    [Fact]
    public void Setting_only_accesses_clears_the_default_duration()
    {
        var spec = ScenarioFile.Parse("accesses_per_vcpu: 100\n", "a.yaml").Spec;

        Assert.Null(spec.Duration);
        Assert.Equal(100L, spec.AccessesPerVcpu);
    }

    [Theory]
    [InlineData("duration: 20", 20)]
    [InlineData("duration: 2m", 120)]
    [InlineData("duration: 500ms", 0.5)]
    [InlineData("duration: \"1h\"", 3600)]
    public void Durations_take_units_or_seconds(string line, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), ScenarioFile.Parse(line + "\n", "d.yaml").Spec.Duration);
    }

    [Fact]
    public void Profile_both_and_a_journal_path_alone_implies_sqlite()
    {
        var scenario = ScenarioFile.Parse("profile: both\njournal:\n  path: j.db\n", "b.yaml");

        Assert.Equal(ProfileChoice.Both, scenario.Profiles);
        Assert.Equal(JournalKind.Sqlite, scenario.Spec.Journal);
        var specs = scenario.Specs();
        Assert.Equal(["j.hardened.db", "j.heki-v2.db"], specs.Select(s => s.SqlitePath));
    }

    [Theory]
    // unknown key, top level and nested
    [InlineData("s.yaml", "vms: 3\nvmz: 4\n", "s.yaml:2: unknown key \"vmz\"")]
    [InlineData("s.yaml", "vms: 3\nworkload:\n  read: 1\n  reed: 2\n", "s.yaml:4: unknown key \"workload.reed\"")]
    // wrong type
    [InlineData("s.yaml", "vms: many\n", "s.yaml:1: key \"vms\" must be an integer from 1 to 10000000, got \"many\"")]
    [InlineData("s.yaml", "\n\nvms: \"3\"\n", "s.yaml:3: key \"vms\" must be an integer from 1 to 10000000, got \"3\"")]
    [InlineData("s.yaml", "vms: 2.5\n", "s.yaml:1: key \"vms\" must be an integer from 1 to 10000000, got 2.5")]
    [InlineData("s.yaml", "mbec: yes\n", "s.yaml:1: key \"mbec\" must be true or false, got \"yes\"")]
    [InlineData("s.yaml", "workload: 3\n", "s.yaml:1: key \"workload\" must be a mapping of read, write, exec, user_mode, locality, got 3")]
    [InlineData("s.yaml", "telemetry:\n  exporters: otlp\n", "s.yaml:2: key \"telemetry.exporters\" must be a list of exporter names")]
    [InlineData("s.yaml", "vms:\n", "s.yaml:1: key \"vms\" must be an integer from 1 to 10000000, got nothing")]
    // negative count and out of range
    [InlineData("scenario.yaml", "# c\n\n\n\n\n\nvms: -3\n", "scenario.yaml:7: key \"vms\" must be an integer from 1 to 10000000, got -3")]
    [InlineData("s.yaml", "attacks:\n  write_rodata: -1\n", "s.yaml:2: key \"attacks.write_rodata\" must be an integer from 0 to 2147483647, got -1")]
    [InlineData("s.yaml", "vcpus: 0\n", "s.yaml:1: key \"vcpus\" must be an integer from 1 to 4096, got 0")]
    [InlineData("s.yaml", "memory_mb: 8\n", "s.yaml:1: key \"memory_mb\" must be an integer from 16 to 17592186044416 (MiB), got 8")]
    [InlineData("s.yaml", "seed: -1\n", "s.yaml:1: key \"seed\" must be an integer from 0 to 18446744073709551615, got -1")]
    [InlineData("s.yaml", "seed: 18446744073709551616\n", "s.yaml:1: key \"seed\" must be an integer from 0")]
    [InlineData("s.yaml", "workload:\n  locality: 1.5\n", "s.yaml:2: key \"workload.locality\" must be 0 or a number from 1/65536 (0.0000153) to 1, got 1.5")]
    [InlineData("s.yaml", "workload:\n  read: 0\n  write: 0\n  exec: 0\n", "s.yaml:1: key \"workload\" needs a positive read, write or exec weight")]
    [InlineData("s.yaml", "duration: 0s\n", "s.yaml:1: key \"duration\" must be a duration from 1ms to 7 days")]
    [InlineData("s.yaml", "duration: soon\n", "s.yaml:1: key \"duration\" must be a duration from 1ms to 7 days")]
    [InlineData("s.yaml", "rounds: 0\n", "s.yaml:1: key \"rounds\" must be an integer from 1 to 2147483647, got 0")]
    // unknown enum values
    [InlineData("s.yaml", "vms: 3\nprofile: fast\n", "s.yaml:2: key \"profile\" must be one of hardened, heki-v2 or both, got \"fast\"")]
    [InlineData("s.yaml", "journal:\n  kind: redis\n", "s.yaml:2: key \"journal.kind\" must be inmem or sqlite, got \"redis\"")]
    [InlineData("s.yaml", "telemetry:\n  exporters:\n    - otlp\n    - jaeger\n", "s.yaml:4: key \"telemetry.exporters[1]\" must be one of otlp, prometheus, console, got \"jaeger\"")]
    [InlineData("s.yaml", "journal:\n  kind: inmem\n  path: x.db\n", "s.yaml:3: key \"journal.path\" needs kind sqlite")]
    // malformed YAML, duplicates, wrong shapes
    [InlineData("s.yaml", "vms: 3\nvcpus: [1,\n", "s.yaml:3: malformed YAML")]
    [InlineData("s.yaml", "vms: 3\nworkload:\n  - read\n bad: 1\n", "s.yaml:4: malformed YAML")]
    [InlineData("s.yaml", "vms: 3\nvms: 4\n", "s.yaml:2: duplicate key \"vms\"")]
    [InlineData("s.yaml", "- vms\n", "s.yaml:1: a scenario must be a mapping of keys")]
    [InlineData("s.yaml", "vms: 3\n---\nvms: 4\n", "s.yaml:2: a scenario file holds one YAML document")]
    [InlineData("s.txt", "vms: 3\n", "s.txt: a scenario file must end in .yaml, .yml or .json")]
    // JSON: unknown key, wrong type, negative count, unknown profile, malformed
    [InlineData("s.json", "{\n  \"vms\": 3,\n  \"vmz\": 4\n}", "s.json:3: unknown key \"vmz\"")]
    [InlineData("s.json", "{\n  \"vms\": \"3\"\n}", "s.json:2: key \"vms\" must be an integer from 1 to 10000000, got \"3\"")]
    [InlineData("s.json", "{\n  \"mbec\": 1\n}", "s.json:2: key \"mbec\" must be true or false, got 1")]
    [InlineData("s.json", "{\n\n  \"attacks\": {\n    \"clear_pinned_cr\": -2\n  }\n}", "s.json:4: key \"attacks.clear_pinned_cr\" must be an integer from 0 to 2147483647, got -2")]
    [InlineData("s.json", "{\n  \"profile\": \"HARDENED\"\n}", "s.json:2: key \"profile\" must be one of hardened, heki-v2 or both, got \"HARDENED\"")]
    [InlineData("s.json", "{\n  \"vms\": 3,\n  \"vcpus\": \n}", "s.json:4: malformed JSON")]
    [InlineData("s.json", "{\n  \"vms\": 3\n  \"vcpus\": 2\n}", "s.json:3: malformed JSON")]
    [InlineData("s.json", "{\"vms\": 3}\n{}", "s.json:2: malformed JSON")]
    [InlineData("s.json", "{\n  \"vms\": 3,\n  \"vms\": 4\n}", "s.json:3: duplicate key \"vms\"")]
    [InlineData("s.json", "[1, 2]", "s.json:1: a scenario must be a mapping of keys")]
    public void A_bad_file_names_the_key_and_the_line(string fileName, string text, string expected)
    {
        var error = Assert.Throws<UsageException>(() => ScenarioFile.Parse(text, fileName));

        Assert.StartsWith(expected, error.Message);
    }

    /// <summary>QA 7: a key over YAML's 1,024-character limit got YamlDotNet's "Did not find expected &lt;document start&gt;".</summary>
    [Theory]
    [InlineData("", 1)]
    [InlineData("vms: 3\n", 2)]
    [InlineData("chaos:\n  ", 2)]
    public void A_key_longer_than_yaml_allows_is_named_at_its_line(string before, int line)
    {
        var key = new string('k', 100_000);

        var error = Assert.Throws<UsageException>(() => ScenarioFile.Parse(before + key + ": 1\n", "s.yaml"));

        Assert.Equal($"s.yaml:{line}: malformed YAML: a key of 100,000 characters ('{new string('k', 40)}...'): YAML allows at most 1,024 in a key",
            error.Message);
    }

    [Fact]
    public void The_shipped_example_scenarios_parse()
    {
        var folder = FindScenarios();
        var files = Directory.GetFiles(folder).Where(f => f.EndsWith(".yaml") || f.EndsWith(".json")).ToList();
        Assert.True(files.Count >= 3);
        foreach (var file in files)
        {
            ScenarioFile.Load(file);
        }

        // default.yaml writes out the built-in default exactly.
        var written = ScenarioFile.Load(Path.Combine(folder, "default.yaml"));
        Assert.Equal(Scenario.Default.Spec, written.Spec);
        Assert.Equal(Scenario.Default.Profiles, written.Profiles);
        Assert.Equal(ScenarioFile.Load(Path.Combine(folder, "attack-heavy.yaml")).Spec, ScenarioFile.Load(Path.Combine(folder, "attack-heavy.json")).Spec);
    }

    private static string FindScenarios()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scenarios");
            if (File.Exists(Path.Combine(candidate, "default.yaml")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("scenarios/ not found above " + AppContext.BaseDirectory);
    }
}
