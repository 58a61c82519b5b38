using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Live;

namespace HekiActors.Simulation.Tests.Live;

/// <summary>
/// The live page's recorder on a real run: what it counted from the warning supervisor's decisions adds up to the
/// report's own figures, and its last sample is the report's.
/// </summary>
public sealed class SimulationLiveRecorderTests
{
    private static SimulationSpec Spec(HekiProfile profile) => new(
        Vms: 6, VcpusPerVm: 2, MemoryMbPerVm: 64, Profile: profile, Mbec: true, Duration: null, AccessesPerVcpu: 30_000,
        Rounds: 3, Seed: 11, Workload: WorkloadMix.Default, Attacks: AttackMix.Default,
        Kernel: GuestKernelSpec.Synthetic); // 64 MiB VMs: the synthetic guest, whatever the default guest

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public async Task What_the_supervisor_decided_adds_up_to_the_reports_violations_and_warnings(HekiProfile profile)
    {
        var recorder = new SimulationLiveRecorder(Spec(profile), latencies: null, topOffenders: 10);
        var result = await new SimulationEngine().RunAsync(Spec(profile), new ObservedProgress(null, recorder), null, CancellationToken.None);

        var top = recorder.Offenders.Top();
        Assert.Equal(6, top.Count); // every VM was attacked; 6 VMs fit in a top 10
        Assert.Equal(result.Counts.Violations, top.Sum(o => o.Count));
        Assert.Equal(result.Counts.PageFaults, top.Sum(o => o.Tallies[SimulationLiveRecorder.PageFaultTally]));
        Assert.Equal(result.Counts.CrPinBlocks, top.Sum(o => o.Tallies[SimulationLiveRecorder.CrPinTally]));
        Assert.True(top.Zip(top.Skip(1)).All(p => p.Item1.Count >= p.Item2.Count), "the top is in descending order");

        var last = recorder.State.Figures;
        Assert.Equal("done", recorder.State.Phase);
        Assert.Same(result.Counts, recorder.Final);
        foreach (var count in SimulationLiveRecorder.LiveCounts.Where(c => c.Key is not ("spans_dropped" or "export_failures")))
            Assert.Equal(count.Value(result.Counts), (long)last[count.Key]);
        // Counted live by access kind: the kinds add up to the report's #PF faults.
        Assert.Equal(result.Counts.PageFaults, (long)(last["page_faults.read"] + last["page_faults.write"] + last["page_faults.exec"]));
        // The live warnings are the supervisor's decisions, one by one.
        Assert.Equal(result.Counts.WarningsEmitted, recorder.WarningsPrinted);
        Assert.Equal(result.Counts.WarningsSuppressed, recorder.WarningsSuppressed);

        var vm = top[0].Key;
        var events = recorder.Offenders.RecentEvents(vm);
        Assert.InRange(events.Count, 1, 8);
        Assert.All(events, e => Assert.Equal(vm, e.Report.VmId));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.Item1.Seconds <= p.Item2.Seconds), "events oldest first");
        Assert.Contains(events, e => e.Report is FaultReport || e.Report.Site == WarningSite.BlockedCr);
    }

    [Fact]
    public async Task The_timeline_samples_the_run_and_ends_on_the_reports_accesses()
    {
        var spec = Spec(HekiProfile.Hardened) with { AccessesPerVcpu = null, Duration = TimeSpan.FromSeconds(2), Rounds = 4 };
        var recorder = new SimulationLiveRecorder(spec, latencies: null);
        var result = await new SimulationEngine().RunAsync(spec, new ObservedProgress(null, recorder), null, CancellationToken.None);

        var slice = recorder.Timeline.Read(0, recorder.Timeline.Epoch);
        Assert.True(slice.Count >= 2, $"{slice.Count} samples in a 2 s run sampled every 0.5 s");
        Assert.True(slice.Seconds.Zip(slice.Seconds.Skip(1)).All(p => p.Item2 > p.Item1), "time moves forward");
        var accesses = slice.Values[SimulationLiveRecorder.SeriesKeys.ToList().IndexOf(HekiVocabulary.Accesses.Key)];
        Assert.True(accesses.Zip(accesses.Skip(1)).All(p => p.Item2 >= p.Item1), "a running total never shrinks");
        Assert.Equal(result.Counts.Accesses, (long)accesses[^1]);
    }

    [Fact]
    public void Ticks_delivered_back_to_back_make_one_sample_not_two_at_the_same_time()
    {
        var recorder = new SimulationLiveRecorder(Spec(HekiProfile.Hardened), latencies: null);
        recorder.Report(new SimulationProgress("run", 6, 6, 100, 0, 0, 0, TimeSpan.FromSeconds(1), 0.1));
        var samples = recorder.Timeline.Count;
        recorder.Report(new SimulationProgress("run", 6, 6, 200, 0, 0, 0, TimeSpan.FromSeconds(1), 0.2));

        var slice = recorder.Timeline.Read(0, 0);
        Assert.Equal(samples, slice.Count);
        Assert.Equal(200, slice.Values[0][^1]); // the newer figures win
    }

    [Fact]
    public void The_timeline_starts_at_second_zero_with_every_count_zero_and_no_latency()
    {
        var recorder = new SimulationLiveRecorder(Spec(HekiProfile.Hardened), latencies: null);

        var slice = recorder.Timeline.Read(0, 0);
        Assert.Equal(1, slice.Count);
        Assert.Equal(0, slice.Seconds[0]);
        for (var s = 0; s < SimulationLiveRecorder.SeriesKeys.Count; s++)
        {
            var key = SimulationLiveRecorder.SeriesKeys[s];
            if (key.EndsWith(".p50", StringComparison.Ordinal) || key.EndsWith(".p90", StringComparison.Ordinal) || key.EndsWith(".p99", StringComparison.Ordinal))
                Assert.True(double.IsNaN(slice.Values[s][0]), $"{key}: a latency before any was measured");
            else
                Assert.Equal(0, slice.Values[s][0]);
        }
    }
}
