using HekiActors.Simulation.Guest;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// issue 8, item 5: work is generated as it is done, so a run's size costs no memory up front and a duration bounds
/// every phase. Per-round shares are computed, not laid out; attacks are planned one at a time.
/// </summary>
public sealed class LazyWorkTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(10, 3)]
    [InlineData(5, 5)]
    [InlineData(1_000_003, 7)]
    public void Round_shares_add_up_to_the_budget_with_the_remainder_first(long total, int rounds)
    {
        var schedule = new RunRounds(rounds, total, Start, null);
        var shares = Enumerable.Range(0, rounds).Select(r => schedule.AccessesIn(r)).ToList();

        Assert.Equal(total, shares.Sum());
        Assert.True(shares.Max() - shares.Min() <= 1);
        Assert.Equal(shares.OrderByDescending(s => s), shares);
    }

    [Fact]
    public void The_largest_schedule_needs_no_array_and_its_last_deadline_is_the_duration()
    {
        // 2^31 - 1 rounds of a 7-day run: 6 * 10^12 ticks times 2^31 would overflow 64 bits.
        var week = TimeSpan.FromDays(7);
        var schedule = new RunRounds(int.MaxValue, long.MaxValue, Start, week);

        Assert.Equal(Start + week, schedule.DeadlineOf(int.MaxValue - 1));
        Assert.Equal(long.MaxValue / int.MaxValue + 1, schedule.AccessesIn(0));
        Assert.True(schedule.DeadlineOf(0) > Start);
        Assert.False(schedule.Over(Start + week - TimeSpan.FromTicks(1)));
        Assert.True(schedule.Over(Start + week));
    }

    [Fact]
    public void Without_a_duration_the_run_is_never_over_and_rounds_have_no_access_bound_without_a_budget()
    {
        var schedule = new RunRounds(3, null, Start, null);

        Assert.False(schedule.Over(DateTimeOffset.MaxValue));
        Assert.Equal(long.MaxValue, schedule.AccessesIn(2));
    }

    [Fact]
    public async Task Two_billion_attacks_per_round_end_at_the_duration()
    {
        var spec = new SimulationSpec(Vms: 1, VcpusPerVm: 1, MemoryMbPerVm: 64, HekiProfile.Hardened, Mbec: true,
            Duration: TimeSpan.FromSeconds(1), AccessesPerVcpu: null, Rounds: 2, Seed: 3, WorkloadMix.Default,
            AttackMix.None with { WriteKernelText = int.MaxValue }, Kernel: GuestKernelSpec.Synthetic);
        var before = GC.GetTotalAllocatedBytes();

        var result = await new SimulationEngine().RunAsync(spec, null, null, CancellationToken.None);

        var attempted = result.Attacks.Single(a => a.Kind == AttackKind.WriteKernelText).Attempted;
        Assert.InRange(attempted, 1, int.MaxValue - 1);
        Assert.Equal(attempted, result.Attacks.Single(a => a.Kind == AttackKind.WriteKernelText).Blocked);
        // Planned as they run: allocations follow the attacks made, not the 2^31 asked for (a list of them was 100+ GB).
        Assert.True(GC.GetTotalAllocatedBytes() - before < 4L << 30);
    }

    [Fact]
    public async Task Stopping_ends_an_attack_phase_that_has_no_deadline()
    {
        using var cancel = new CancellationTokenSource();
        // Stops once 100 attacks ran: without a duration only Stop can end two billion attacks.
        var recorder = new CancelAfterAttacks(100, cancel);
        var spec = new SimulationSpec(Vms: 2, VcpusPerVm: 1, MemoryMbPerVm: 64, HekiProfile.Hardened, Mbec: true,
            Duration: null, AccessesPerVcpu: 1000, Rounds: 1, Seed: 3, WorkloadMix.Default,
            AttackMix.None with { ClearPinnedCr = int.MaxValue }, Kernel: GuestKernelSpec.Synthetic);

        var result = await new SimulationEngine().RunAsync(spec, null, recorder, cancel.Token).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.InRange(result.Attacks.Single(a => a.Kind == AttackKind.ClearPinnedCr).Attempted, 100, int.MaxValue - 1);
    }

    private sealed class CancelAfterAttacks(int attacks, CancellationTokenSource cancel) : ISimulationRecorder
    {
        private int _seen;

        public void Record(string jsonRequestLine)
        {
            if (jsonRequestLine.Contains("\"attack\"", StringComparison.Ordinal) && Interlocked.Increment(ref _seen) == attacks)
                cancel.Cancel();
        }
    }
}
