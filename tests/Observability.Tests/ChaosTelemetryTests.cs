using HekiActors.Memory;
using HekiActors.Simulation.Chaos;
using Xunit.Abstractions;

namespace HekiActors.Observability.Tests;

/// <summary>
/// Issue 12's "telemetry counters for faults and findings so a dashboard shows a chaos run": at the end of a chaos run
/// the counters hold exactly the report's counts, kind by kind, invariant by invariant, label by label.
/// </summary>
public sealed class ChaosTelemetryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_chaos_counters_equal_the_reports_faults_checks_and_findings_at_the_end_of_a_run()
    {
        using var capture = new TelemetryCapture(new TelemetryOptions(TraceSampleRatio: 0, FastPathSpanRatio: 0));
        // heki-v2, so the run finds RFC defects (labelled findings) as well as making checks.
        var spec = new ChaosSpec(HekiProfile.HekiV2, 3, 2, 64, null, 300, 7, FaultPlan.Every(7, 0.03),
            ReplyTimeout: TimeSpan.FromMilliseconds(400));
        var result = await ChaosRunner.RunAsync(spec);
        var metrics = capture.Metrics();
        var profile = (HekiTags.Profile, "heki-v2");

        foreach (var (kind, count) in result.Faults)
        {
            output.WriteLine($"{kind.Name()}: {count}");
            Assert.Equal(count, InstrumentTests.Sum(metrics["heki.chaos.faults"], profile, (HekiTags.ChaosFault, kind.Name())));
        }

        Assert.True(result.FaultsInjected > 0);
        Assert.Equal(result.FaultsInjected, InstrumentTests.Sum(metrics["heki.chaos.faults"], profile));
        foreach (var (invariant, count) in result.Checks)
        {
            Assert.True(count > 0, $"invariant {invariant} never checked");
            Assert.Equal(count, InstrumentTests.Sum(metrics["heki.chaos.checks"], profile, (HekiTags.ChaosInvariant, $"{(int)invariant}")));
        }

        Assert.Contains(result.FindingCounts, kv => kv.Key.Defect != Defect.None);
        foreach (var ((invariant, defect), count) in result.FindingCounts)
        {
            output.WriteLine($"invariant {(int)invariant} {defect.Label()}: {count}");
            Assert.Equal(count, InstrumentTests.Sum(metrics["heki.chaos.findings"], profile,
                (HekiTags.ChaosInvariant, $"{(int)invariant}"), (HekiTags.ChaosLabel, defect.Label())));
        }

        Assert.Equal(result.FindingCounts.Values.Sum(), InstrumentTests.Sum(metrics["heki.chaos.findings"], profile));
        Assert.Equal(result.Violations, InstrumentTests.Sum(metrics["heki.chaos.findings"], profile, (HekiTags.ChaosLabel, HekiTagValues.Violation)));
        // The violation series exist from the start, at 0, so a dashboard's "0 invariant violations" panel has data.
        Assert.Equal(5, metrics["heki.chaos.findings"].MetricPoints.Count(p => HasTag(p, HekiTags.ChaosLabel, HekiTagValues.Violation)));
    }

    [Fact]
    public async Task Chaos_off_records_no_chaos_counter_even_with_telemetry_on()
    {
        using var capture = new TelemetryCapture(new TelemetryOptions(TraceSampleRatio: 0, FastPathSpanRatio: 0));
        var spec = new ChaosSpec(HekiProfile.Hardened, 1, 1, 64, null, 50, 3, FaultPlan.None);
        var result = await ChaosRunner.RunAsync(spec);
        var metrics = capture.Metrics();
        Assert.Equal(0, result.FaultsInjected);
        Assert.Equal(0, metrics.TryGetValue("heki.chaos.faults", out var faults) ? InstrumentTests.Sum(faults) : 0);
        Assert.Equal(result.Checks.Values.Sum(), InstrumentTests.Sum(metrics["heki.chaos.checks"]));
    }

    [Fact]
    public async Task A_simulation_with_a_chaos_section_counts_its_faults_as_its_report_does()
    {
        using var capture = new TelemetryCapture(new TelemetryOptions(TraceSampleRatio: 0, FastPathSpanRatio: 0));
        var spec = new HekiActors.Simulation.SimulationSpec(4, 2, 64, HekiProfile.Hardened, true, null, 5_000, 3, 5,
            HekiActors.Protocol.WorkloadMix.Default, HekiActors.Simulation.AttackMix.Default, Kernel: HekiActors.Simulation.Guest.GuestKernelSpec.Synthetic)
        {
            Chaos = new SimulationChaos(FaultKinds.All.ToDictionary(k => k, _ => 0.1)),
        };
        var result = await new HekiActors.Simulation.SimulationEngine().RunAsync(spec, null, null, CancellationToken.None);
        var metrics = capture.Metrics();

        Assert.True(result.Faults!.Values.Sum() > 0);
        foreach (var (kind, count) in result.Faults)
            Assert.Equal(count, InstrumentTests.Sum(metrics["heki.chaos.faults"], (HekiTags.Profile, "hardened"), (HekiTags.ChaosFault, kind.Name())));
    }

    private static bool HasTag(OpenTelemetry.Metrics.MetricPoint point, string key, string value)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key && (string?)tag.Value == value)
                return true;
        }

        return false;
    }
}
