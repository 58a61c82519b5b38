using System.Globalization;
using System.Text.Json;
using HekiActors.Cli.Simulate;
using HekiActors.Observability;
using Microsoft.Playwright;

namespace HekiActors.Dashboard.Tests;

/// <summary>
/// Reads the figures a page shows (every table cell with <c>data-key</c> and <c>data-run</c>) and checks each one, value
/// and text, against the JSON report the same command wrote: the key is the figure's path in the report's run object
/// (<c>counts.accesses</c>, <c>latency_ns.fast_path.p99</c>, <c>attacks.write_rodata.blocked</c>) or, for telemetry's
/// per-process figures, in the report itself (<c>telemetry.spans_dropped</c>).
/// </summary>
internal static class ReportFigures
{
    public sealed record Cell(string Key, int Run, string Value, string Text);

    public static async Task<IReadOnlyList<Cell>> ReadAsync(IPage page, string table)
    {
        var cells = await page.EvalOnSelectorAllAsync<string[][]>($"{table} td[data-key][data-run]",
            "cells => cells.map(c => [c.dataset.key, c.dataset.run, c.dataset.value, c.textContent])");
        return cells.Select(c => new Cell(c[0], int.Parse(c[1], CultureInfo.InvariantCulture), c[2], c[3])).ToList();
    }

    /// <summary>Asserts every cell equals the report, and that every count of the vocabulary is shown for every run.</summary>
    public static void AssertEqual(IReadOnlyList<Cell> cells, JsonElement report, bool vocabulary = true)
    {
        var runs = report.GetProperty("runs").GetArrayLength();
        Assert.NotEmpty(cells);
        foreach (var cell in cells)
        {
            var expected = Resolve(report, cell);
            if (expected is not { } element || element.ValueKind == JsonValueKind.Null)
            {
                Assert.True(cell.Value.Length == 0, $"{cell.Key} (run {cell.Run}): the report has no value, the page shows {cell.Value}");
                continue;
            }

            if (element.ValueKind != JsonValueKind.Number)
            {
                Assert.Equal(element.ToString(), cell.Value);
                continue;
            }

            var value = element.GetDouble();
            Assert.True(double.TryParse(cell.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var shown), $"{cell.Key}: '{cell.Value}' is not a number");
            Assert.True(value == shown, $"{cell.Key} (run {cell.Run}): the page shows {shown}, the JSON report says {value}");
            if (cell.Key != "elapsed_seconds")
                Assert.Equal(ExpectedText(cell.Key, value), cell.Text);
        }

        if (!vocabulary)
            return;
        foreach (var count in HekiVocabulary.Counts)
        {
            for (var r = 0; r < runs; r++)
                Assert.Contains(cells, c => c.Key == "counts." + count.Key && c.Run == r);
        }

        foreach (var latency in HekiVocabulary.Latencies)
            Assert.Contains(cells, c => c.Key == $"latency_ns.{latency.Key}.p99");
    }

    /// <summary>The text the report's table writes for a value (the text report's own formats).</summary>
    private static string ExpectedText(string key, double value) => key switch
    {
        _ when key.StartsWith("latency_ns.", StringComparison.Ordinal) => ReportFormat.Duration(value),
        "accesses_per_second" => ReportFormat.Rate(value) + " accesses/s",
        // The guest kernel's means per boot, as the text report writes them: whole, or with one decimal.
        _ when key.StartsWith("guest_kernel.", StringComparison.Ordinal) && value != Math.Floor(value) => value.ToString("N1", CultureInfo.InvariantCulture),
        _ => ReportFormat.Count((long)value),
    };

    private static JsonElement? Resolve(JsonElement report, Cell cell)
    {
        var path = cell.Key.Split('.');
        var run = report.GetProperty("runs")[cell.Run];
        var node = path[0] == "telemetry" ? report : run;
        if (path[0] == "attacks")
            return node.GetProperty("attacks").EnumerateArray().Single(a => a.GetProperty("kind").GetString() == path[1]).GetProperty(path[2]);
        // A latency nothing was timed for: the report gives zeros, the page shows "n/a".
        if (path[0] == "latency_ns" && run.GetProperty("latency_ns").GetProperty(path[1]).GetProperty("count").GetInt64() == 0)
            return null;
        foreach (var step in path)
            node = node.GetProperty(step);
        return node;
    }
}
