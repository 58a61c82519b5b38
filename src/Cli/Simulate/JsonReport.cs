using System.Text.Encodings.Web;
using System.Text.Json;
using HekiActors.Actors.Hosting;
using HekiActors.Simulation;
using HekiActors.Simulation.Chaos;
using HekiActors.Memory;
using HekiActors.Observability;

namespace HekiActors.Cli.Simulate;

/// <summary>Writes the <c>--report FILE.json</c> report: stable snake_case fields, documented in scenarios/README.md.</summary>
/// <remarks>
/// Written field by field with <see cref="Utf8JsonWriter"/> rather than by serializing the result records, so renaming
/// a C# property can never silently change the machine-readable format; <see cref="Version"/> changes when it does.
/// </remarks>
public static class JsonReport
{
    public const string Format = "heki-simulate-report";
    public const int Version = 2;

    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <param name="telemetry">Telemetry's own figures (null when no exporter ran: all zero).</param>
    public static void Write(Stream stream, Scenario scenario, IReadOnlyList<SimulationResult> results, bool stoppedEarly,
        TelemetrySummary? telemetry = null)
    {
        using var json = new Utf8JsonWriter(stream, Options);
        json.WriteStartObject();
        json.WriteString("format", Format);
        json.WriteNumber("version", Version);
        json.WriteString("scenario", scenario.Name);
        json.WriteBoolean("stopped_early", stoppedEarly);
        json.WriteStartArray("telemetry_exporters");
        foreach (var exporter in scenario.TelemetryExporters)
        {
            json.WriteStringValue(exporter);
        }

        json.WriteEndArray();
        telemetry ??= new TelemetrySummary(0, 0, 0, null);
        json.WriteStartObject("telemetry");
        json.WriteNumber("spans_ended", telemetry.SpansEnded);
        json.WriteNumber(HekiVocabulary.SpansDropped.Key, telemetry.SpansDropped);
        json.WriteNumber(HekiVocabulary.ExportFailures.Key, telemetry.ExportFailures);
        json.WriteString("first_failure", telemetry.FirstFailure);
        json.WriteEndObject();
        json.WriteStartArray("runs");
        foreach (var result in results)
        {
            WriteRun(json, result);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static string Render(Scenario scenario, IReadOnlyList<SimulationResult> results, bool stoppedEarly,
        TelemetrySummary? telemetry = null)
    {
        using var stream = new MemoryStream();
        Write(stream, scenario, results, stoppedEarly, telemetry);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteRun(Utf8JsonWriter json, SimulationResult r)
    {
        var spec = r.Spec;
        json.WriteStartObject();
        json.WriteString("profile", spec.Profile.Name());
        json.WriteNumber("vms", spec.Vms);
        json.WriteNumber("vms_booted", r.VmsBooted ?? spec.Vms);
        json.WriteNumber("vms_resumed", r.VmsResumed);
        json.WriteNumber("vms_unfinished", r.VmsUnfinished);
        json.WriteString("failure", r.Failure);
        json.WriteNumber("vcpus_per_vm", spec.VcpusPerVm);
        json.WriteNumber("vcpus_total", (long)spec.Vms * spec.VcpusPerVm);
        json.WriteNumber("memory_mb_per_vm", spec.MemoryMbPerVm);
        json.WriteBoolean("mbec", spec.Mbec);
        json.WriteNumber("rounds", spec.Rounds);
        json.WriteNumber("seed", spec.Seed);
        if (spec.Duration is { } duration)
        {
            json.WriteNumber("duration_seconds", duration.TotalSeconds);
        }
        else
        {
            json.WriteNull("duration_seconds");
        }

        if (spec.AccessesPerVcpu is { } accesses)
        {
            json.WriteNumber("accesses_per_vcpu", accesses);
        }
        else
        {
            json.WriteNull("accesses_per_vcpu");
        }

        json.WriteString("journal", spec.Journal == JournalKind.Sqlite ? Expectations.SqliteName : Expectations.InMemoryName);
        json.WriteString("sqlite_path", spec.Journal == JournalKind.Sqlite ? spec.SqlitePath : null);

        json.WriteStartObject("workload");
        json.WriteNumber("read", spec.Workload.Read);
        json.WriteNumber("write", spec.Workload.Write);
        json.WriteNumber("exec", spec.Workload.Exec);
        json.WriteNumber("user_mode", spec.Workload.UserMode);
        json.WriteNumber("locality", spec.Workload.Locality);
        json.WriteEndObject();

        json.WriteStartObject("attack_mix");
        foreach (var kind in Enum.GetValues<AttackKind>())
        {
            json.WriteNumber(kind.Name(), spec.Attacks.PerVmPerRound(kind));
        }

        json.WriteEndObject();

        json.WriteNumber("elapsed_seconds", r.Elapsed.TotalSeconds);
        json.WriteNumber("boot_seconds", r.BootElapsed.TotalSeconds);
        Number(json, "accesses_per_second", Math.Round(r.AccessesPerSecond, 1));

        // Every count of the vocabulary (HekiVocabulary), under its key: the metrics carry the same figures.
        json.WriteStartObject("counts");
        foreach (var count in HekiVocabulary.Counts)
        {
            json.WriteNumber(count.Key, count.Value(r.Counts));
        }

        json.WriteEndObject();

        json.WriteStartObject("latency_ns");
        foreach (var latency in HekiVocabulary.Latencies)
        {
            WriteLatency(json, latency.Key, ReportWriter.Latency(r, latency));
        }

        foreach (var part in HekiVocabulary.LatencyParts)
        {
            WriteLatency(json, part.Key, r.Part(part));
        }

        json.WriteEndObject();

        json.WriteStartArray("boot_failures");
        foreach (var failure in r.BootFailures)
        {
            json.WriteStartObject();
            json.WriteString("reason", failure.Reason);
            json.WriteString("result", failure.Result);
            json.WriteNumber("vms", failure.Vms);
            json.WriteString("first_vm", failure.FirstVm);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("attacks");
        foreach (var kind in Enum.GetValues<AttackKind>())
        {
            var tally = ReportWriter.Tally(r, kind);
            json.WriteStartObject();
            json.WriteString("kind", kind.Name());
            json.WriteNumber("attempted", tally.Attempted);
            json.WriteNumber("blocked", tally.Blocked);
            json.WriteNumber("succeeded", tally.Succeeded);
            json.WriteString("why", tally.Why);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        GuestKernelReportWriter.Write(json, r);
        if (r.Nodes is { } nodes)
        {
            // Only a run against a cluster has it (heki simulate --cluster).
            json.WriteStartArray("nodes");
            foreach (var node in nodes)
            {
                json.WriteStartObject();
                json.WriteString("address", node.Address);
                json.WriteNumber("vms", node.Vms);
                json.WriteNumber("shards", node.Shards);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        WriteChaos(json, r);
        json.WriteEndObject();
    }

    /// <summary>The scenario's chaos section and the faults it injected (only with one: docs/chaos.md, "In heki simulate").</summary>
    private static void WriteChaos(Utf8JsonWriter json, SimulationResult r)
    {
        if (r.Spec.Chaos is not { } chaos || r.Faults is not { } faults)
        {
            return;
        }

        json.WriteStartObject("chaos");
        json.WriteStartObject("rates");
        foreach (var kind in chaos.Kinds)
        {
            json.WriteNumber(kind.Name(), chaos.RateOf(kind));
        }

        json.WriteEndObject();
        json.WriteNumber(HekiVocabulary.ChaosFaults.Key, faults.Values.Sum());
        json.WriteStartObject("faults");
        foreach (var (kind, count) in faults)
        {
            json.WriteNumber(kind.Name(), count);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    // JSON has no NaN or infinity; an engine that could not measure something reports null rather than breaking the file.
    internal static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteLatency(Utf8JsonWriter json, string name, LatencySummary summary)
    {
        json.WriteStartObject(name);
        json.WriteNumber("count", summary.Count);
        Number(json, "p50", summary.P50);
        Number(json, "p90", summary.P90);
        Number(json, "p99", summary.P99);
        Number(json, "max", summary.Max);
        json.WriteEndObject();
    }
}
