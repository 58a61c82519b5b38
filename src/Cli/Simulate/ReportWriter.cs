using System.Text;
using HekiActors.Actors.Hosting;
using HekiActors.Simulation;
using HekiActors.Simulation.Chaos;
using HekiActors.Memory;
using HekiActors.Observability;

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
        text.Append("  ").Append(Describe(spec)).Append('\n');
        if (results.FirstOrDefault(r => r.Nodes is not null)?.Nodes is { } nodes)
            text.Append("  on a cluster of ").Append(ReportFormat.Count(nodes.Count)).Append(nodes.Count == 1 ? " VM node" : " VM nodes")
                .Append(" (the journal is theirs, not the one above)\n");
        text.Append('\n');

        var rows = new List<string[]>();
        rows.Add(["", .. results.Select(r => r.Spec.Profile.Name())]);
        void Row(string label, Func<SimulationResult, string> cell) => rows.Add([label, .. results.Select(cell)]);
        // Stopped during boot, or boots that failed: say how many VMs actually ran.
        Row("VMs", r => (r.VmsBooted is { } booted && booted < r.Spec.Vms
            ? $"{ReportFormat.Count(booted)} of {ReportFormat.Count(r.Spec.Vms)} booted"
            : ReportFormat.Count(r.Spec.Vms)) + (r.VmsResumed > 0 ? $" ({ReportFormat.Count(r.VmsResumed)} resumed from the journal)" : ""));
        Row("vCPUs", r => ReportFormat.Count((long)r.Spec.Vms * r.Spec.VcpusPerVm));
        // A run against a cluster: where its VMs ran (the shard coordinator's view at the end of the run).
        if (results.Any(r => r.Nodes is not null))
            Row("  VMs per node", r => r.Nodes is { } nodes ? string.Join(", ", nodes.Select(n => $"{n.Address} {ReportFormat.Count(n.Vms)}")) : "");
        Row("elapsed (boot)", r => $"{ReportFormat.Seconds(r.Elapsed)} ({ReportFormat.Seconds(r.BootElapsed)})");
        // Every count row comes from the vocabulary (HekiVocabulary): the same names and meanings as the JSON, the
        // progress line, the metrics and docs/observability.md.
        foreach (var count in HekiVocabulary.Counts.Where(c => c.InTable))
        {
            Row(count.Label, r => ReportFormat.Count(count.Value(r.Counts)));
            if (count == HekiVocabulary.Accesses)
                Row("  throughput", r => ReportFormat.Rate(r.AccessesPerSecond) + " accesses/s");
            if (count == HekiVocabulary.HypercallsRefusedCpl)
                Row("  by result", r => ByResult(r.Counts));
        }

        foreach (var latency in HekiVocabulary.Latencies)
        {
            Row(latency.Label + " p50/p90/p99/max", r => ReportFormat.Percentiles(Latency(r, latency)));
            // Where the model's time and the waits for a turn differ, both (issue 11).
            foreach (var part in HekiVocabulary.LatencyParts.Where(p => p.Of == latency))
                Row(part.Label + " p50/p90/p99/max", r => ReportFormat.Percentiles(r.Part(part)));
        }
        AppendTable(text, rows, leftAligned: 1);
        var vcpus = results.Count == 0 ? 0 : (long)results.Max(r => (long)r.Spec.Vms * r.Spec.VcpusPerVm);
        if (vcpus > Environment.ProcessorCount)
        {
            // Without this, a slow path of tens of milliseconds reads as a defect: it is waiting for a turn.
            text.Append("  (slow-path and hypercall latencies include queueing: ").Append(ReportFormat.Count(vcpus))
                .Append(" busy vCPUs share ").Append(Environment.ProcessorCount)
                .Append(" cores; docs/benchmarks.md has the unloaded costs)\n");
        }

        AppendBootFailures(text, results);
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

        AppendFaults(text, results);
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
        text.Append('\n').Append(HekiVocabulary.AttacksSucceeded.Label).Append(": ")
            .Append(string.Join(", ", succeeded.Select(s => $"{s.Profile.Name()} {ReportFormat.Count(s.Count)}")));
        var unprotected = results.Where(r => r.Counts.BootProtectionFailures > 0)
            .Select(r => $"{r.Spec.Profile.Name()} {ReportFormat.Count(r.Counts.BootProtectionFailures)}").ToList();
        if (unprotected.Count > 0)
            text.Append(" (VMs without boot protection: ").Append(string.Join(", ", unprotected)).Append(')');
        text.Append('\n');
        text.Append(GuestKernelReportWriter.Render(results));
        return text.ToString();
    }

    /// <summary>A run's latency summary for a vocabulary latency.</summary>
    public static LatencySummary Latency(SimulationResult result, HekiLatency latency) =>
        latency == HekiVocabulary.FastPath ? result.FastPathNanoseconds
        : latency == HekiVocabulary.SlowPath ? result.SlowPathNanoseconds
        : result.HypercallNanoseconds;

    /// <summary>Hypercall results that occurred, e.g. <c>ok 6,900 eperm 6,000</c>.</summary>
    private static string ByResult(HekiCounts counts)
    {
        var parts = HekiTagValues.Results.Select((name, i) => (name, n: counts.HypercallsByResult[i]))
            .Where(p => p.n > 0).Select(p => $"{p.name} {ReportFormat.Count(p.n)}").ToList();
        return parts.Count == 0 ? "-" : string.Join(" ", parts);
    }

    /// <summary>
    /// Boot protection failures, loudly: a VM whose kernel could not protect itself runs unprotected, and its attacks
    /// "succeed" for that reason, not because of a profile's defect (issue 8, item 6).
    /// </summary>
    private static void AppendBootFailures(StringBuilder text, IReadOnlyList<SimulationResult> results)
    {
        foreach (var result in results)
        {
            foreach (var failure in result.BootFailures)
            {
                text.Append("WARNING: ").Append(result.Spec.Profile.Name()).Append(": ").Append(ReportFormat.Count(failure.Vms))
                    .Append(failure.Vms == 1 ? " VM runs" : " VMs run").Append(" without kernel protection (e.g. ").Append(failure.FirstVm)
                    .Append("): ").Append(failure.Reason).Append('\n');
            }
        }
    }

    /// <summary>The faults the scenario's chaos section injected, per profile and kind (nothing without one).</summary>
    private static void AppendFaults(StringBuilder text, IReadOnlyList<SimulationResult> results)
    {
        foreach (var result in results)
        {
            if (result.Faults is not { } faults)
                continue;
            text.Append("chaos: ").Append(result.Spec.Profile.Name()).Append(": ").Append(ReportFormat.Count(faults.Values.Sum()))
                .Append(' ').Append(HekiVocabulary.ChaosFaults.Label).Append(" (")
                .Append(string.Join(", ", faults.Select(f => $"{f.Key.Name()} {ReportFormat.Count(f.Value)}"))).Append(")\n");
        }
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
        return $"{ReportFormat.Count(spec.Vms, "VM")} x {ReportFormat.Count(spec.VcpusPerVm, "vCPU")} x {spec.MemoryMbPerVm} MiB, " +
               $"MBEC {(spec.Mbec ? "on" : "off")}, {ReportFormat.Count(spec.Rounds, "round")}, {bound}, journal {journal}";
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
