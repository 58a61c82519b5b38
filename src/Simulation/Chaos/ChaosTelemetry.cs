using System.Diagnostics;
using HekiActors.Memory;
using HekiActors.Observability;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// The chaos counters a dashboard shows (docs/observability.md, "Chaos"): faults injected by kind, the oracle's checks
/// by invariant, its findings by invariant and label. Recorded from the same figures the report is built from, so at
/// the end of a run each counter equals the report's count. Free when telemetry is off (no listener: nothing recorded).
/// </summary>
public static class ChaosTelemetry
{
    private static readonly string[] FaultNames = FaultKinds.All.Select(k => k.Name()).ToArray();
    private static readonly string[] InvariantNames = ["0", "1", "2", "3", "4", "5"];

    /// <summary>One fault of <paramref name="kind"/> injected (or <paramref name="count"/> of them, continued from a killed process).</summary>
    public static void Injected(FaultKind kind, string profileTag, long count = 1)
    {
        if (count != 0 && HekiMetrics.ChaosFaults.Enabled)
            HekiMetrics.ChaosFaults.Add(count, new TagList { { HekiTags.Profile, profileTag }, { HekiTags.ChaosFault, FaultNames[(int)kind] } });
    }

    /// <summary>
    /// Creates the run's fault series at 0 (every kind the plan can inject), so each exists from the first scrape on:
    /// a fault counted before Prometheus first saw its series would never show in rate() or increase().
    /// </summary>
    public static void CreateFaultSeries(FaultPlan plan, string profileTag)
    {
        if (!HekiMetrics.ChaosFaults.Enabled)
            return;
        foreach (var kind in FaultKinds.All.Where(k => plan.RateOf(k) > 0))
            HekiMetrics.ChaosFaults.Add(0, new TagList { { HekiTags.Profile, profileTag }, { HekiTags.ChaosFault, FaultNames[(int)kind] } });
    }

    /// <summary>
    /// Publishes what one oracle counted since the last call (checks and findings), as increments. Single-threaded, like
    /// the oracle it follows: the caller holds the oracle's lock.
    /// </summary>
    public sealed class OraclePublisher
    {
        private readonly string _profile;
        private readonly long[] _checks = new long[InvariantNames.Length];
        private readonly Dictionary<(Invariant, Defect), long> _findings = new();

        public OraclePublisher(HekiProfile profile)
        {
            _profile = HekiTagValues.Of(profile);
            if (!HekiMetrics.ChaosChecks.Enabled && !HekiMetrics.ChaosFindings.Enabled)
                return;
            // Every series the run can reach, at 0 (see CreateFaultSeries): checks per invariant, and violations per invariant.
            foreach (var invariant in Enum.GetValues<Invariant>())
            {
                HekiMetrics.ChaosChecks.Add(0, CheckTags(invariant));
                HekiMetrics.ChaosFindings.Add(0, FindingTags(invariant, Defect.None));
            }
        }

        /// <summary>Adds the oracle's checks and findings made since the last call.</summary>
        public void Publish(InvariantOracle oracle)
        {
            if (!HekiMetrics.ChaosChecks.Enabled && !HekiMetrics.ChaosFindings.Enabled)
                return;
            foreach (var invariant in Enum.GetValues<Invariant>())
            {
                var now = oracle.Checks(invariant);
                if (now != _checks[(int)invariant])
                    HekiMetrics.ChaosChecks.Add(now - _checks[(int)invariant], CheckTags(invariant));
                _checks[(int)invariant] = now;
            }

            foreach (var (kind, now) in oracle.FindingCounts)
            {
                var before = _findings.GetValueOrDefault(kind);
                if (now != before)
                    HekiMetrics.ChaosFindings.Add(now - before, FindingTags(kind.Invariant, kind.Defect));
                _findings[kind] = now;
            }
        }

        private TagList CheckTags(Invariant invariant) =>
            new() { { HekiTags.Profile, _profile }, { HekiTags.ChaosInvariant, InvariantNames[(int)invariant] } };

        private TagList FindingTags(Invariant invariant, Defect defect) =>
            new() { { HekiTags.Profile, _profile }, { HekiTags.ChaosInvariant, InvariantNames[(int)invariant] }, { HekiTags.ChaosLabel, defect.Label() } };
    }
}
