using HekiActors.Actors.Hosting;
using HekiActors.Cli.Simulate;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Tests;

/// <summary>The scenario file's <c>chaos</c> section (docs/chaos.md, "In heki simulate"; scenarios/README.md).</summary>
public sealed class SimulateScenarioChaosTests
{
    [Fact]
    public void Without_a_chaos_section_nothing_is_injected()
    {
        Assert.Null(ScenarioFile.Parse("vms: 3\n", "s.yaml").Spec.Chaos);
        Assert.Null(Scenario.Default.Spec.Chaos);
    }

    [Fact]
    public void An_empty_chaos_section_is_every_kind_at_the_default_rate()
    {
        var chaos = ScenarioFile.Parse("chaos:\n", "s.yaml").Spec.Chaos!;

        Assert.Equal(FaultKinds.All, chaos.Kinds);
        Assert.All(FaultKinds.All, kind => Assert.Equal(ScenarioFile.DefaultChaosRate, chaos.RateOf(kind)));
        Assert.True(chaos.AllKinds);
    }

    [Theory]
    [InlineData("c.yaml", "chaos:\n  faults: [drop_reply, crash_vm]\n  rate: 0.1\n  rates:\n    clock_skew: 0.5\n    crash_vm: 0.25\n")]
    [InlineData("c.json", "{ \"chaos\": { \"faults\": [\"drop_reply\", \"crash_vm\"], \"rate\": 0.1, \"rates\": { \"clock_skew\": 0.5, \"crash_vm\": 0.25 } } }")]
    public void Listed_kinds_take_the_rate_and_rates_set_a_kinds_own(string fileName, string text)
    {
        var chaos = ScenarioFile.Parse(text, fileName).Spec.Chaos!;

        Assert.Equal([FaultKind.DropReply, FaultKind.CrashVm, FaultKind.ClockSkew], chaos.Kinds);
        Assert.Equal(0.1, chaos.RateOf(FaultKind.DropReply));
        Assert.Equal(0.25, chaos.RateOf(FaultKind.CrashVm));
        Assert.Equal(0.5, chaos.RateOf(FaultKind.ClockSkew));
        Assert.Equal(0, chaos.RateOf(FaultKind.Duplicate));
        Assert.False(chaos.AllKinds);
    }

    [Theory]
    [InlineData("chaos:\n  faults: none\n")]
    [InlineData("chaos:\n  rate: 0\n")]
    public void No_kind_at_a_rate_above_zero_is_no_chaos(string text) => Assert.Null(ScenarioFile.Parse(text, "s.yaml").Spec.Chaos);

    [Theory]
    [InlineData("chaos: 3\n", "s.yaml:1: key \"chaos\" must be a mapping of faults, rate, rates, got 3")]
    [InlineData("chaos:\n  rate: 1.5\n", "s.yaml:2: key \"chaos.rate\" must be a number from 0 to 1 (the probability per request), got 1.5")]
    [InlineData("chaos:\n  rate: -0.1\n", "s.yaml:2: key \"chaos.rate\" must be a number from 0 to 1 (the probability per request), got -0.1")]
    [InlineData("chaos:\n  rate: often\n", "s.yaml:2: key \"chaos.rate\" must be a number from 0 to 1")]
    [InlineData("chaos:\n  faults: some\n", "s.yaml:2: key \"chaos.faults\" must be all, none, or a list of fault kinds (drop_request, ")]
    [InlineData("chaos:\n  faults:\n    - drop_reply\n    - meteor\n", "s.yaml:4: key \"chaos.faults[1]\" must be one of drop_request, drop_reply, ")]
    [InlineData("chaos:\n  rates:\n    meteor: 0.1\n", "s.yaml:3: unknown key \"chaos.rates.meteor\"; known keys under \"chaos.rates\": drop_request, ")]
    [InlineData("chaos:\n  rates:\n    crash_vm: 2\n", "s.yaml:3: key \"chaos.rates.crash_vm\" must be a number from 0 to 1")]
    [InlineData("chaos:\n  seed: 3\n", "s.yaml:2: unknown key \"chaos.seed\"; known keys under \"chaos\": faults, rate, rates")]
    [InlineData("chaos:\n  rate: 0.1\n  rate: 0.2\n", "s.yaml:3: duplicate key \"chaos.rate\"")]
    public void A_bad_chaos_section_names_the_key_and_the_line(string text, string expected)
    {
        var error = Assert.Throws<UsageException>(() => ScenarioFile.Parse(text, "s.yaml"));

        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void On_a_sqlite_journal_all_means_every_kind_but_the_journals_and_a_named_journal_fault_is_refused()
    {
        var dir = Directory.CreateTempSubdirectory("heki-chaos-scenario-").FullName;
        try
        {
            var all = Path.Combine(dir, "all.yaml");
            File.WriteAllText(all, "chaos:\n  faults: all\n");
            var engine = new FakeSimulationEngine();
            var (code, _, error) = Samples.Run(engine, "--no-progress", all, "--sqlite-path", Path.Combine(dir, "all.db"));
            Assert.True(code == 0, error);
            var spec = Assert.Single(engine.Runs);
            Assert.Equal(JournalKind.Sqlite, spec.Journal);
            Assert.Equal(FaultKinds.All.Where(k => !k.IsJournalFault()), spec.Chaos!.Kinds);

            var named = Path.Combine(dir, "named.yaml");
            File.WriteAllText(named, "chaos:\n  faults: [drop_reply, journal_stall]\n");
            (code, _, error) = Samples.Run(engine, "--no-progress", named, "--sqlite-path", Path.Combine(dir, "named.db"));
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("key \"chaos\" injects journal_stall, which needs the inmem journal", error);
            Assert.Single(engine.Runs);
            Assert.False(File.Exists(Path.Combine(dir, "named.db")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
