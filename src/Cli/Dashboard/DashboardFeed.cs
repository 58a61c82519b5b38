using System.Text.Encodings.Web;
using System.Text.Json;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Observability.Live;
using HekiActors.Simulation.Live;

namespace HekiActors.Cli.Dashboard;

/// <summary>
/// The data a live page polls and an HTML report embeds: generic over "a command's runs, each a time series and a
/// state, plus the final report" so another command (heki chaos) can feed the same page with its own charts.
/// </summary>
/// <remarks>
/// <para>Shape (documented in docs/observability.md, "Live page and HTML report"):
/// <c>{format, version, title, command, scenario, scenario_file, seed, description, records, state, vocabulary?,
/// charts?, live_counts, runs: [{label, phase, fraction, vms_booted, vms_total, seconds, figures, timeline: {epoch,
/// from, count, t, series}, offenders, events?}], report}</c>.</para>
/// <para>A poll names what it has per run (<c>since=EPOCH:COUNT,...</c>) and gets only newer points, so an update costs
/// the points added since the last one plus the top offenders, whatever the run's length or number of VMs. Written
/// with an HTML-safe encoder (&lt; &gt; &amp; ' escaped) so the same text can sit inside a &lt;script&gt; element.</para>
/// </remarks>
public static class DashboardFeed
{
    public const string Format = "heki-dashboard-feed";
    public const int Version = 1;

    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.Default };

    /// <summary>What a reader already holds of each run: the timeline's epoch and point count.</summary>
    public readonly record struct Since(int Epoch, int Count);

    /// <summary>
    /// Writes the feed. <paramref name="since"/> null: everything, with the vocabulary and chart definitions (the first
    /// poll, and the report); else only what is new for each run.
    /// </summary>
    /// <param name="events">Include each top offender's recent events (the report, and the live page once the run is over).</param>
    public static void Write(Stream stream, LiveSession session, IReadOnlyList<Since>? since = null, bool events = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var json = new Utf8JsonWriter(stream, Options);
        var about = session.About;
        var report = session.ReportJson;
        json.WriteStartObject();
        json.WriteString("format", Format);
        json.WriteNumber("version", Version);
        json.WriteString("title", "heki simulate");
        json.WriteString("command", about.Command);
        json.WriteString("scenario", about.Scenario);
        json.WriteString("scenario_file", about.ScenarioFile);
        json.WriteString("seed", about.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        json.WriteString("description", about.Description);
        json.WriteStartArray("records");
        foreach (var record in about.Records)
            json.WriteStringValue(record);
        json.WriteEndArray();
        json.WriteStartArray("profiles");
        foreach (var profile in about.Profiles)
            json.WriteStringValue(profile);
        json.WriteEndArray();
        json.WriteString("state", report is null ? "running" : session.StoppedEarly ? "stopped" : "done");
        if (since is null)
        {
            WriteVocabulary(json);
            WriteCharts(json, SimulationLiveRecorder.Charts);
        }

        json.WriteStartArray("live_counts");
        foreach (var count in SimulationLiveRecorder.LiveCounts)
            json.WriteStringValue(count.Key);
        json.WriteEndArray();

        json.WriteStartArray("runs");
        var runs = session.Runs;
        for (var r = 0; r < runs.Count; r++)
        {
            // Once the report is in, every poll gets whole timelines: the page ends on exactly the server's points.
            var have = since is not null && r < since.Count && report is null ? since[r] : new Since(-1, 0);
            WriteRun(json, runs[r], have, events || report is not null);
        }

        json.WriteEndArray();
        json.WritePropertyName("report");
        if (report is null)
            json.WriteNullValue();
        else
        {
            // Re-written through this writer's encoder: the report's own text escapes less (it is not meant for HTML).
            using var document = JsonDocument.Parse(report);
            document.RootElement.WriteTo(json);
        }

        json.WriteEndObject();
    }

    /// <summary>Parses <c>since=E:N,E:N</c>; null when absent or malformed (the reader then gets everything).</summary>
    public static IReadOnlyList<Since>? ParseSince(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        var parts = text.Split(',');
        if (parts.Length > 16)
            return null;
        var result = new List<Since>(parts.Length);
        foreach (var part in parts)
        {
            var pair = part.Split(':');
            if (pair.Length != 2 || !int.TryParse(pair[0], out var epoch) || !int.TryParse(pair[1], out var count) || count < 0)
                return null;
            result.Add(new Since(epoch, count));
        }

        return result;
    }

    /// <summary>One VM's figures and recent events (the page's "click a VM"); false when the run or VM is unknown.</summary>
    public static bool WriteVm(Stream stream, LiveSession session, int run, string vm)
    {
        ArgumentNullException.ThrowIfNull(session);
        var runs = session.Runs;
        if (run < 0 || run >= runs.Count || runs[run].Offenders.Of(vm) is not { } offender)
            return false;
        using var json = new Utf8JsonWriter(stream, Options);
        json.WriteStartObject();
        WriteOffenderFields(json, offender);
        WriteEvents(json, runs[run].Offenders.RecentEvents(vm));
        json.WriteEndObject();
        return true;
    }

    private static void WriteRun(Utf8JsonWriter json, SimulationLiveRecorder run, Since have, bool events)
    {
        var state = run.State;
        json.WriteStartObject();
        json.WriteString("label", run.Spec.Profile.Name());
        json.WriteString("phase", state.Phase);
        Number(json, "fraction", state.Fraction);
        json.WriteNumber("vms_booted", state.VmsBooted);
        json.WriteNumber("vms_total", state.VmsTotal);
        Number(json, "seconds", Math.Round(state.Seconds, 3));
        json.WriteStartObject("figures");
        foreach (var (key, value) in state.Figures)
            Number(json, key, value);
        json.WriteEndObject();

        var slice = run.Timeline.Read(have.Count, have.Epoch);
        json.WriteStartObject("timeline");
        json.WriteNumber("epoch", slice.Epoch);
        json.WriteNumber("from", slice.From);
        json.WriteNumber("count", slice.Count);
        json.WriteStartArray("t");
        foreach (var t in slice.Seconds)
            json.WriteNumberValue(Math.Round(t, 3));
        json.WriteEndArray();
        json.WriteStartObject("series");
        for (var s = 0; s < run.Timeline.Keys.Count; s++)
        {
            json.WriteStartArray(run.Timeline.Keys[s]);
            foreach (var v in slice.Values[s])
            {
                if (double.IsFinite(v))
                    json.WriteNumberValue(v);
                else
                    json.WriteNullValue();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartArray("offenders");
        var top = run.Offenders.Top();
        foreach (var offender in top)
        {
            json.WriteStartObject();
            WriteOffenderFields(json, offender);
            if (events)
                WriteEvents(json, run.Offenders.RecentEvents(offender.Key));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteOffenderFields(Utf8JsonWriter json, Offender offender)
    {
        json.WriteString("vm", offender.Key);
        json.WriteNumber(HekiVocabulary.Violations.Key, offender.Count);
        json.WriteNumber(HekiVocabulary.PageFaults.Key, offender.Tallies[SimulationLiveRecorder.PageFaultTally]);
        json.WriteNumber(HekiVocabulary.CrPinBlocks.Key, offender.Tallies[SimulationLiveRecorder.CrPinTally]);
    }

    private static void WriteEvents(Utf8JsonWriter json, IReadOnlyList<VmEvent> events)
    {
        json.WriteStartArray("events");
        foreach (var e in events)
        {
            json.WriteStartObject();
            json.WriteNumber("t", Math.Round(e.Seconds, 3));
            json.WriteString("what", e.What);
            json.WriteString("text", e.Text);
            json.WriteBoolean("printed", e.Printed);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteVocabulary(Utf8JsonWriter json)
    {
        json.WriteStartObject("vocabulary");
        json.WriteStartArray("counts");
        foreach (var count in HekiVocabulary.Counts.Append(HekiVocabulary.SpansDropped).Append(HekiVocabulary.ExportFailures))
        {
            json.WriteStartObject();
            json.WriteString("key", count.Key);
            json.WriteString("label", count.Label.Trim());
            json.WriteBoolean("sub", count.Label.StartsWith(' '));
            json.WriteBoolean("in_table", count.InTable);
            json.WriteString("definition", count.Definition);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("latencies");
        foreach (var latency in HekiVocabulary.Latencies)
        {
            json.WriteStartObject();
            json.WriteString("key", latency.Key);
            json.WriteString("label", latency.Label);
            json.WriteString("definition", latency.Definition);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteCharts(Utf8JsonWriter json, IReadOnlyList<ChartSpec> charts)
    {
        json.WriteStartArray("charts");
        foreach (var chart in charts)
        {
            json.WriteStartObject();
            json.WriteString("key", chart.Key);
            json.WriteString("title", chart.Title);
            json.WriteString("unit", chart.Unit);
            json.WriteString("kind", chart.Kind.ToString().ToLowerInvariant());
            json.WriteStartArray("series");
            foreach (var series in chart.Series)
            {
                json.WriteStartObject();
                json.WriteString("key", series.Key);
                json.WriteString("label", series.Label);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    // As the JSON report writes a number: null where there is none (an empty latency window).
    private static void Number(Utf8JsonWriter json, string name, double value) => Simulate.JsonReport.Number(json, name, value);
}
