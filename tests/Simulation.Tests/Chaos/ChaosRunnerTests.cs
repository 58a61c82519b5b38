using HekiActors.Memory;
using HekiActors.Simulation.Chaos;
using Xunit.Abstractions;

namespace HekiActors.Simulation.Tests.Chaos;

public sealed class ChaosRunnerTests(ITestOutputHelper output)
{
    private static ChaosSpec Spec(HekiProfile profile, double rate, long operations = 600, int vms = 3) =>
        new(profile, vms, 2, 64, null, operations, 42, FaultPlan.Every(42, rate), ReplyTimeout: TimeSpan.FromMilliseconds(400));

    private void Print(ChaosResult result)
    {
        output.WriteLine($"ops {result.Operations} unanswered {result.Unanswered} faults {result.FaultsInjected} elapsed {result.Elapsed}");
        foreach (var (kind, count) in result.Faults)
            output.WriteLine($"  {kind.Name()}: {count}");
        foreach (var (inv, count) in result.Checks)
            output.WriteLine($"  check {inv}: {count}");
        foreach (var f in result.Findings)
            output.WriteLine($"  {f.Finding} (script {f.Script.Count} lines)");
    }

    [Fact]
    public async Task Hardened_under_every_fault_kind_has_no_violation_and_injects_every_kind()
    {
        var result = await ChaosRunner.RunAsync(Spec(HekiProfile.Hardened, 0.02));
        Print(result);
        Assert.All(FaultKinds.All, kind => Assert.True(result.Faults[kind] > 0, kind.Name() + " was never injected"));
        Assert.Equal(0, result.Violations);
        Assert.Equal(0, result.Unanswered);
        Assert.All(Enum.GetValues<Invariant>(), i => Assert.True(result.Checks[i] > 0, $"invariant {i} never checked"));
    }

    [Fact]
    public async Task Heki_v2_under_faults_finds_the_three_RFC_defects_and_no_bug()
    {
        var result = await ChaosRunner.RunAsync(Spec(HekiProfile.HekiV2, 0.02));
        Print(result);
        Assert.Equal(0, result.Violations);
        var defects = result.Findings.Select(f => f.Finding.Defect).ToHashSet();
        Assert.Contains(Defect.DroppedDowngrade, defects);
        Assert.Contains(Defect.HalfAppliedBatch, defects);
        Assert.Contains(Defect.HostIntegrityFault, defects);
    }
}
