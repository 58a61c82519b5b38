using HekiActors.Actors;
using HekiActors.Memory;
using HekiActors.Simulation.Chaos;
using HekiActors.Simulation.Replay;
using Xunit.Abstractions;

namespace HekiActors.Simulation.Tests.Chaos;

/// <summary>Findings become small replay scripts that show them again; planted bugs prove the oracle can fail.</summary>
public sealed class ReproducerTests(ITestOutputHelper output)
{
    private static ChaosSpec Spec(HekiProfile profile, double rate, long operations, PlantedBug planted = PlantedBug.None) =>
        new ChaosSpec(profile, 2, 2, 64, null, operations, 7, FaultPlan.Every(7, rate), ReplyTimeout: TimeSpan.FromMilliseconds(400))
            { Planted = planted };

    [Fact]
    public async Task Every_heki_v2_defect_shrinks_to_a_one_minimal_script_that_heki_v2_confirms_and_hardened_does_not()
    {
        var result = await ChaosRunner.RunAsync(Spec(HekiProfile.HekiV2, 0.01, 500));
        var defects = result.Findings.Where(f => f.Finding.IsDefect).GroupBy(f => f.Finding.Defect).Select(g => g.First()).ToList();
        Assert.Equal(3, defects.Count);
        await using var rfc = ScriptChecker.Start(HekiProfile.HekiV2);
        await using var hardened = ScriptChecker.Start(HekiProfile.Hardened);
        foreach (var captured in defects)
        {
            var shrunk = await rfc.ShrinkAsync(captured.Script, captured.Finding.Kind);
            Assert.NotNull(shrunk);
            output.WriteLine($"{captured.Finding.Defect}: {captured.Script.Count} -> {shrunk.Count} lines\n{ScriptChecker.Format(shrunk)}");
            Assert.True(shrunk.Count < captured.Script.Count);
            Assert.True(await rfc.ShowsAsync(shrunk, captured.Finding.Kind));
            Assert.Empty(await hardened.CheckAsync(shrunk));
            // 1-minimal: no single line can go.
            for (var i = 0; i < shrunk.Count; i++)
                Assert.False(await rfc.ShowsAsync(shrunk.Where((_, j) => j != i).ToList(), captured.Finding.Kind));
            // The file form parses back to the same requests.
            var parsed = ScriptChecker.Format(shrunk).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => ReplayParser.Parse(l).Request).ToList();
            Assert.Equal(shrunk.Count, parsed.Count);
        }
    }

    [Theory]
    [InlineData("SkippedShootdown", 0.0)]
    [InlineData("AckBeforeDurable", 0.05)]
    [InlineData("EventDroppedOnRecovery", 0.05)]
    [InlineData("WarningOverLimit", 0.0)]
    [InlineData("DuplicateAppliedTwice", 0.05)]
    public async Task A_planted_bug_is_caught_with_a_finding(string bug, double rate)
    {
        var planted = Enum.Parse<PlantedBug>(bug);
        var result = await ChaosRunner.RunAsync(Spec(HekiProfile.Hardened, rate, 600, planted));
        foreach (var f in result.Findings)
            output.WriteLine(f.Finding.ToString());
        Assert.True(result.Violations > 0, $"{planted} went unnoticed");
        Assert.All(result.Findings, f => Assert.False(f.Finding.IsDefect));
    }
}
