using System.Globalization;
using HekiActors.Simulation;

namespace HekiActors.Cli.Simulate;

/// <summary>How numbers read in progress lines and reports: grouped counts, scaled rates, latencies with a unit.</summary>
/// <remarks>Invariant culture and SI units (ns, µs, ms, s) so output is the same on every machine and in every log.</remarks>
public static class ReportFormat
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Count(long value) => value.ToString("N0", Inv);

    /// <summary>
    /// A count with its noun, singular for exactly one: <c>1 VM</c>, <c>2 VMs</c>, <c>10,000 vCPUs</c>. The one place
    /// every message, header and listing says "N things"; <paramref name="plural"/> for a noun that does not just add s.
    /// </summary>
    public static string Count(long value, string noun, string? plural = null) =>
        $"{Count(value)} {(value == 1 ? noun : plural ?? noun + "s")}";

    /// <summary>A rate scaled to k/M/G: <c>61.7 M</c>.</summary>
    public static string Rate(double perSecond) => perSecond switch
    {
        >= 1e9 => (perSecond / 1e9).ToString("0.0", Inv) + " G",
        >= 1e6 => (perSecond / 1e6).ToString("0.0", Inv) + " M",
        >= 1e3 => (perSecond / 1e3).ToString("0.0", Inv) + " k",
        _ => perSecond.ToString("0", Inv),
    };

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", Inv) + "s";

    /// <summary>p50/p90/p99/max, each in its own unit (ns, µs, ms, s): <c>4 ns / 5 ns / 14 ns / 1.32 ms</c>; "n/a" when nothing was timed.</summary>
    public static string Percentiles(LatencySummary summary) =>
        summary.Count == 0 ? "n/a" : string.Join(" / ", new[] { summary.P50, summary.P90, summary.P99, summary.Max }.Select(Duration));

    /// <summary>A duration given in nanoseconds, in the largest unit that keeps it at least 1: <c>14 ns</c>, <c>3.2 µs</c>, <c>1.32 ms</c>, <c>4.1 s</c>.</summary>
    public static string Duration(double nanoseconds)
    {
        var (scale, unit) = nanoseconds switch
        {
            >= 1e9 => (1e9, "s"),
            >= 1e6 => (1e6, "ms"),
            >= 1e3 => (1e3, "µs"),
            _ => (1.0, "ns"),
        };
        var value = nanoseconds / scale;
        var format = scale == 1.0 ? "0" : value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00";
        return value.ToString(format, Inv) + " " + unit;
    }
}
