using System.Text.Json;
using HekiActors.Memory;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Chaos;

/// <summary>The report of <c>heki chaos</c>, as text and as JSON (docs/chaos.md names every field).</summary>
public static class ChaosReport
{
    /// <param name="processes">With <c>--kill-process</c>: every process of the run (the header lists each and its kill
    /// point; <see cref="ChaosResult.Elapsed"/> is then the whole run's); null for a run in one process.</param>
    public static void Write(TextWriter output, IReadOnlyList<(ChaosResult Result, IReadOnlyList<ChaosReproducer> Reproducers)> runs,
        ProcessRuns? processes = null)
    {
        foreach (var (result, reproducers) in runs)
        {
            if (processes is null)
            {
                output.WriteLine($"heki chaos: {result.Profile.Name()}, seed {result.Seed}, {result.Elapsed.TotalSeconds:0.0} s");
            }
            else
            {
                var all = processes.All().ToList();
                output.WriteLine($"heki chaos: {result.Profile.Name()}, seed {result.Seed}, {result.Elapsed.TotalSeconds:0.0} s "
                    + $"in {all.Count} processes ({all.Count - 1} killed with SIGKILL of {processes.History.Asked:N0} kills asked)");
                foreach (var (number, pid, ran, ended, killed) in all)
                {
                    output.WriteLine($"  process {number,-3} pid {pid,-8} {ran.TotalSeconds,6:0.0} s  " + (killed is null ? ended
                        : $"killed after {killed.LogLines:N0} log lines (the seed's least: {killed.LeastLogLines:N0})"));
                }
            }

            output.WriteLine($"  operations           {result.Operations,12:N0}  ({result.Unanswered:N0} unanswered after every resend)");
            output.WriteLine($"  faults injected      {result.FaultsInjected,12:N0}");
            foreach (var (kind, count) in result.Faults)
                output.WriteLine($"    {kind.Name(),-26}{count,12:N0}");
            output.WriteLine("  invariant checks");
            foreach (var (invariant, count) in result.Checks)
                output.WriteLine($"    {(int)invariant}. {Describe(invariant),-54}{count,12:N0}");
            if (result.Restarts > 0)
                output.WriteLine($"  process restarts     {result.Restarts,12:N0}  (killed with SIGKILL; {result.ProbesAfterRestart:N0} probes of acknowledged changes after them)");
            if (result.NodeFaults.Count > 0)
            {
                output.WriteLine($"  node faults          {result.NodeFaultsInjected,12:N0}");
                foreach (var node in result.NodeFaults)
                {
                    var vms = result.NodeCounts.FirstOrDefault(c => c.Address == node.Address)?.Vms ?? 0;
                    output.WriteLine($"    {node.Address,-32} {node.Kills:N0} killed, {node.Restarts:N0} restarted, {node.Pauses:N0} paused, "
                        + $"{node.Exits:N0} exited on its own; {vms:N0} VMs at the end");
                }
            }
            else if (result.NodeCounts.Count > 0)
            {
                output.WriteLine($"  VMs per node         {string.Join(", ", result.NodeCounts.Select(c => $"{c.Address} {c.Vms:N0}"))}");
            }

            if (result.NodeFaultProblem is { } problem)
                output.WriteLine($"  node faults stopped early: {problem}");
            output.WriteLine($"  {result.Violations:N0} invariant violations, {result.LostAcknowledgedChanges:N0} lost acknowledged changes");
            foreach (var ((invariant, defect), count) in result.FindingCounts.Where(kv => kv.Key.Defect != Defect.None))
                output.WriteLine($"  RFC defect {defect} (invariant {(int)invariant}): {count:N0} findings");
            foreach (var reproducer in reproducers)
            {
                output.WriteLine($"  finding: {reproducer.Finding}");
                output.WriteLine(reproducer.Path is null
                    ? "    no reproducer: the finding does not show on a model without faults"
                    : $"    reproducer {reproducer.Path}: {reproducer.Lines} lines (from {reproducer.OriginalLines}); "
                      + $"heki-v2 {(reproducer.ConfirmedHekiV2 ? "shows it" : "does not")}, hardened {(reproducer.ConfirmedHardened ? "shows it" : "does not")}");
            }
        }
    }

    /// <summary>The JSON report (docs/chaos.md names every field), one object per profile.</summary>
    /// <param name="processes">As for <see cref="Write"/>: <c>processes</c> lists them; empty for a run in one process.</param>
    public static void WriteJson(TextWriter output, IReadOnlyList<(ChaosResult Result, IReadOnlyList<ChaosReproducer> Reproducers)> runs,
        ProcessRuns? processes = null)
    {
        var document = runs.Select(run => new
        {
            profile = run.Result.Profile.Name(),
            seed = run.Result.Seed,
            elapsed_seconds = run.Result.Elapsed.TotalSeconds,
            operations = run.Result.Operations,
            unanswered = run.Result.Unanswered,
            faults_injected = run.Result.FaultsInjected,
            faults = run.Result.Faults.ToDictionary(kv => kv.Key.Name(), kv => kv.Value),
            checks = run.Result.Checks.ToDictionary(kv => ((int)kv.Key).ToString(System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value),
            restarts = run.Result.Restarts,
            probes_after_restart = run.Result.ProbesAfterRestart,
            kills_asked = processes?.History.Asked,
            processes = (processes?.All() ?? []).Select(p => new
            {
                number = p.Number,
                pid = p.Pid,
                seconds = p.Ran.TotalSeconds,
                ended = p.Ended,
                log_lines = p.Killed?.LogLines,
                least_log_lines = p.Killed?.LeastLogLines,
            }),
            invariant_violations = run.Result.Violations,
            rfc_defect_findings = run.Result.FindingCounts.Where(kv => kv.Key.Defect != Defect.None).Sum(kv => kv.Value),
            lost_acknowledged_changes = run.Result.LostAcknowledgedChanges,
            node_faults_injected = run.Result.NodeFaultsInjected,
            node_fault_problem = run.Result.NodeFaultProblem,
            nodes = NodesOf(run.Result),
            findings = run.Result.FindingCounts.Select(kv => new
            {
                invariant = (int)kv.Key.Invariant,
                defect = kv.Key.Defect == Defect.None ? null : kv.Key.Defect.ToString(),
                count = kv.Value,
            }),
            reproducers = run.Reproducers.Select(r => new
            {
                invariant = (int)r.Finding.Invariant,
                defect = r.Finding.IsDefect ? r.Finding.Defect.ToString() : null,
                detail = r.Finding.Detail,
                path = r.Path,
                lines = r.Lines,
                original_lines = r.OriginalLines,
                shows_under_heki_v2 = r.ConfirmedHekiV2,
                shows_under_hardened = r.ConfirmedHardened,
            }),
        });
        output.Write(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        output.Flush();
    }

    /// <summary>Against a cluster: each node's faults (its own nodes) and VMs and shards at the end; empty for a local run.</summary>
    private static IEnumerable<object> NodesOf(ChaosResult result)
    {
        var addresses = result.NodeFaults.Select(n => n.Address).Concat(result.NodeCounts.Select(c => c.Address)).Distinct();
        return addresses.Select(address =>
        {
            var faults = result.NodeFaults.FirstOrDefault(n => n.Address == address);
            var count = result.NodeCounts.FirstOrDefault(c => c.Address == address);
            return (object)new
            {
                address,
                vms = count?.Vms ?? 0,
                shards = count?.Shards ?? 0,
                kills = faults?.Kills ?? 0,
                restarts = faults?.Restarts ?? 0,
                pauses = faults?.Pauses ?? 0,
                exits = faults?.Exits ?? 0,
            };
        });
    }

    private static string Describe(Invariant invariant) => invariant switch
    {
        Invariant.ForbiddenAccess => "no access the acknowledged permissions forbid",
        Invariant.ImmutableOrPinned => "immutable pages and pinned CR bits never change",
        Invariant.AcknowledgedChange => "every acknowledged change survives, in force",
        Invariant.FailedBatchChangesNothing => "a failed multi-range hypercall changes nothing",
        Invariant.WarningRateLimit => "warnings within the profile's rate limit",
        _ => invariant.ToString(),
    };
}
