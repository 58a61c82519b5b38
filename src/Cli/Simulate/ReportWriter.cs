using System.Text;
using HekiActors.Actors.Hosting;
using HekiActors.Simulation;
using HekiActors.Memory;

namespace HekiActors.Cli.Simulate;

/// <summary>Writes the final human report: a figures table with one column per profile, then an attack table.</summary>
/// <remarks>
/// Profiles sit side by side (hardened first) so a difference between them reads across one row; the attack table has
/// one row per kind and profile, adjacent, with the rule that let an attack through when one did.
/// </remarks>
public static class ReportWriter
{
    public static void Write(TextWriter writer, Scenario scenario, IReadOnlyList<SimulationResult> results, bool stoppedEarly)
    {
        writer.Write(Render(scenario, results, stoppedEarly));
        writer.Flush();
    }

    public static string Render(Scenario scenario, IReadOnlyList<SimulationResult> results, bool stoppedEarly)
    {
        var text = new StringBuilder();
        var spec = scenario.Spec;
        text.Append("heki simulate: scenario ").Append(scenario.Name).Append(", seed ").Append(spec.Seed)
            .Append(stoppedEarly ? " (stopped early: counts cover the part that ran)" : "").Append('\n');
        text.Append("  ").Append(Describe(spec)).Append('\n').Append('\n');

        var rows = new List<string[]>();
        rows.Add(["", .. results.Select(r => r.Spec.Profile.Name())]);
        void Row(string label, Func<SimulationResult, string> cell) => rows.Add([label, .. results.Select(cell)]);
        // Stopped during boot, or boots that failed: say how many VMs actually ran.
        Row("VMs", r => r.VmsBooted is { } booted && booted < r.Spec.Vms
            ? $"{ReportFormat.Count(booted)} of {ReportFormat.Count(r.Spec.Vms)} booted"
            : ReportFormat.Count(r.Spec.Vms));
        Row("vCPUs", r => ReportFormat.Count((long)r.Spec.Vms * r.Spec.VcpusPerVm));
        Row("elapsed (boot)", r => $"{ReportFormat.Seconds(r.Elapsed)} ({ReportFormat.Seconds(r.BootElapsed)})");
        Row("accesses", r => ReportFormat.Count(r.Accesses.Total));
        Row("  permitted", r => ReportFormat.Count(r.Accesses.Permitted));
        Row("  faulted (#PF)", r => ReportFormat.Count(r.Accesses.Faulted));
        Row("  mmio", r => ReportFormat.Count(r.Accesses.Mmio));
        Row("throughput", r => ReportFormat.Rate(r.AccessesPerSecond) + " accesses/s");
        Row("fast path p50/p90/p99", r => ReportFormat.Percentiles(r.FastPathNanoseconds));
        Row("slow path p50/p90/p99", r => ReportFormat.Percentiles(r.SlowPathNanoseconds));
        Row("slow-path fills", r => ReportFormat.Count(r.SlowPathFills));
        Row("hypercalls (failed)", r => $"{ReportFormat.Count(r.Hypercalls)} ({ReportFormat.Count(r.HypercallFailures)})");
        Row("hypercall p50/p90/p99", r => ReportFormat.Percentiles(r.HypercallNanoseconds));
        Row("violations", r => ReportFormat.Count(r.Violations));
        Row("immutable rejections", r => ReportFormat.Count(r.ImmutableRejections));
        Row("warnings emitted", r => ReportFormat.Count(r.WarningsEmitted));
        Row("warnings suppressed", r => ReportFormat.Count(r.WarningsSuppressed));
        Row("host-integrity faults", r => ReportFormat.Count(r.HostIntegrityFaults));
        AppendTable(text, rows, leftAligned: 1);
        var vcpus = results.Count == 0 ? 0 : (long)results.Max(r => (long)r.Spec.Vms * r.Spec.VcpusPerVm);
        if (vcpus > Environment.ProcessorCount)
        {
            // Without this, a slow path of tens of milliseconds reads as a defect: it is waiting for a turn.
            text.Append("  (slow-path and hypercall latencies include queueing: ").Append(ReportFormat.Count(vcpus))
                .Append(" busy vCPUs share ").Append(Environment.ProcessorCount)
                .Append(" cores; docs/benchmarks.md has the unloaded costs)\n");
        }

        foreach (var r in results)
        {
            var label = results.Count > 1 ? r.Spec.Profile.Name() + ": " : "";
            if (r.Failure is { } failure)
            {
                text.Append("  (").Append(label).Append("the run stopped by itself: ").Append(failure).Append(")\n");
            }

            if (r.VmsUnfinished > 0)
            {
                text.Append("  (").Append(label).Append(ReportFormat.Count(r.VmsUnfinished))
                    .Append(" VMs had not reported when the stopped run gave up waiting: their counts are missing)\n");
            }
        }

        text.Append('\n');
        var attacks = new List<string[]> { new[] { "attack", "profile", "attempted", "blocked", "succeeded", "why" } };
        foreach (var kind in Enum.GetValues<AttackKind>())
        {
            foreach (var result in results)
            {
                var tally = Tally(result, kind);
                attacks.Add([kind.Name(), result.Spec.Profile.Name(), ReportFormat.Count(tally.Attempted),
                    ReportFormat.Count(tally.Blocked), ReportFormat.Count(tally.Succeeded), tally.Why ?? ""]);
            }
        }

        AppendTable(text, attacks, leftAligned: 2, lastLeftAligned: true);
        var succeeded = results.Select(r => (r.Spec.Profile, Count: r.Attacks.Sum(a => a.Succeeded))).ToList();
        text.Append('\n').Append("attacks succeeded: ")
            .Append(string.Join(", ", succeeded.Select(s => $"{s.Profile.Name()} {ReportFormat.Count(s.Count)}"))).Append('\n');
        return text.ToString();
    }

    /// <summary>One line describing the scenario's shape (without the profile, which the columns give).</summary>
    public static string Describe(SimulationSpec spec)
    {
        var bound = (spec.Duration, spec.AccessesPerVcpu) switch
        {
            ({ } d, { } a) => $"{DurationText.Format(d)} or {ReportFormat.Count(a)} accesses per vCPU",
            ({ } d, null) => DurationText.Format(d),
            (null, { } a) => $"{ReportFormat.Count(a)} accesses per vCPU",
            _ => "unbounded",
        };
        var journal = spec.Journal == JournalKind.Sqlite ? $"sqlite {spec.SqlitePath ?? Scenario.DefaultSqlitePath}" : "inmem";
        return $"{ReportFormat.Count(spec.Vms)} VMs x {spec.VcpusPerVm} vCPUs x {spec.MemoryMbPerVm} MiB, " +
               $"MBEC {(spec.Mbec ? "on" : "off")}, {spec.Rounds} rounds, {bound}, journal {journal}";
    }

    /// <summary>A result's tally for one kind; zeros when the engine reported none (the kind was not in the mix).</summary>
    public static AttackTally Tally(SimulationResult result, AttackKind kind) =>
        result.Attacks.Where(a => a.Kind == kind)
            .Aggregate(new AttackTally(kind, result.Spec.Profile, 0, 0, 0, null), (sum, a) => sum with
            {
                Attempted = sum.Attempted + a.Attempted,
                Blocked = sum.Blocked + a.Blocked,
                Succeeded = sum.Succeeded + a.Succeeded,
                Why = sum.Why ?? a.Why,
            });

    /// <summary>Column-aligned rows: the first <paramref name="leftAligned"/> columns left, the rest right.</summary>
    private static void AppendTable(StringBuilder text, List<string[]> rows, int leftAligned, bool lastLeftAligned = false)
    {
        var columns = rows.Max(r => r.Length);
        var widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => c < r.Length ? r[c].Length : 0)).ToArray();
        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (var c = 0; c < row.Length; c++)
            {
                var left = c < leftAligned || (lastLeftAligned && c == columns - 1);
                if (c > 0)
                {
                    line.Append("  ");
                }

                line.Append(left ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]));
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }
    }
}
