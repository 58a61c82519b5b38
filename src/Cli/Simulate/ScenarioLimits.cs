using System.Globalization;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// The checks that need the whole scenario (file and options merged): each round must get a share of the work, and
/// the run must fit in memory. Each key was checked alone as it was read; these are about how the keys combine.
/// </summary>
public static class ScenarioLimits
{
    /// <summary>Throws a <see cref="UsageException"/> for the first problem; <paramref name="availableBytes"/> is the memory the run may use.</summary>
    public static void Check(Scenario scenario, long availableBytes)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var spec = scenario.Spec;
        var rounds = spec.Rounds.ToString(CultureInfo.InvariantCulture);
        if (spec.AccessesPerVcpu is { } accesses && spec.Rounds > accesses)
        {
            // Each round's share of the accesses would round down to nothing: rounds without any workload.
            throw new UsageException(
                $"rounds ({rounds}) must not exceed accesses per vCPU ({accesses.ToString(CultureInfo.InvariantCulture)}): "
                + "every round runs at least one access on each vCPU");
        }

        if (spec.Duration is { } duration && spec.Rounds > duration.Ticks / DurationText.Min.Ticks)
        {
            throw new UsageException(
                $"rounds ({rounds}) must leave each round at least 1ms of the duration "
                + $"({DurationText.Format(duration)}): at most {(duration.Ticks / DurationText.Min.Ticks).ToString(CultureInfo.InvariantCulture)} rounds");
        }

        RunMemoryEstimate.For(spec, GcBudget.InEffectBytes).Check(spec, availableBytes);
    }
}
