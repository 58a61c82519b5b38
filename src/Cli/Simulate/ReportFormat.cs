using System.Globalization;
using HekiActors.Simulation;

namespace HekiActors.Cli.Simulate;

/// <summary>How numbers read in progress lines and reports: grouped counts, scaled rates, latencies with a unit.</summary>
/// <remarks>Invariant culture and ASCII units ("us", not "µs") so output is the same on every machine and in every log.</remarks>
public static class ReportFormat
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Count(long value) => value.ToString("N0", Inv);

    /// <summary>A rate scaled to k/M/G: <c>61.7 M</c>.</summary>
    public static string Rate(double perSecond) => perSecond switch
    {
        >= 1e9 => (perSecond / 1e9).ToString("0.0", Inv) + " G",
        >= 1e6 => (perSecond / 1e6).ToString("0.0", Inv) + " M",
        >= 1e3 => (perSecond / 1e3).ToString("0.0", Inv) + " k",
        _ => perSecond.ToString("0", Inv),
    };

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", Inv) + "s";

    /// <summary>p50/p90/p99 in one unit chosen by the largest of them: <c>35/60/120 ns</c>, <c>1.2/3.4/9.9 us</c>.</summary>
    public static string Percentiles(LatencySummary summary)
    {
        if (summary.Count == 0)
        {
            return "n/a";
        }

        var (scale, unit) = summary.P99 switch
        {
            >= 1e9 => (1e9, "s"),
            >= 1e6 => (1e6, "ms"),
            >= 1e3 => (1e3, "us"),
            _ => (1.0, "ns"),
        };
        var format = scale == 1.0 ? "0" : "0.0";
        return string.Join("/", new[] { summary.P50, summary.P90, summary.P99 }.Select(v => (v / scale).ToString(format, Inv))) + " " + unit;
    }
}
