using System.Globalization;
using System.Text.RegularExpressions;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// Durations as users write them: <c>20s</c>, <c>2m</c>, <c>1m30s</c>, <c>500ms</c>, <c>1h</c>, <c>7d</c>, or a bare
/// number of seconds. Units d, h, m, s, ms, each at most once and largest first (<c>1h30m</c>; <c>1h1h</c> or
/// <c>30s1m</c> is refused: a typo, not a sum); no white space anywhere.
/// </summary>
public static partial class DurationText
{
    /// <summary>The units, largest first: a part's unit must come after the previous part's in this list.</summary>
    private static readonly string[] Units = ["d", "h", "m", "s", "ms"];

    /// <summary>
    /// Parses a duration from <see cref="Min"/> to <see cref="Max"/> (or exactly zero, in any unit, when
    /// <paramref name="allowZero"/>); false for anything else (too short, negative, unknown, repeated or misordered
    /// unit, white space).
    /// </summary>
    public static bool TryParse(string? text, out TimeSpan duration, bool allowZero = false)
    {
        duration = TimeSpan.Zero;
        // ' 1s' is as wrong as '1s!': white space is no part of a duration (the parse below would skip it).
        if (string.IsNullOrEmpty(text) || text.Any(char.IsWhiteSpace))
        {
            return false;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return FromSeconds(seconds, allowZero, out duration);
        }

        var matches = Part().Matches(text);
        if (matches.Count == 0 || matches.Sum(m => m.Length) != text.Length)
        {
            return false;
        }

        var total = 0.0;
        var previous = -1;
        foreach (Match m in matches)
        {
            var unit = Array.IndexOf(Units, m.Groups["u"].Value);
            if (unit <= previous)
            {
                return false;
            }

            previous = unit;
            var value = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            total += Units[unit] switch
            {
                "ms" => value / 1000,
                "s" => value,
                "m" => value * 60,
                "h" => value * 3600,
                _ => value * 86400,
            };
        }

        return FromSeconds(total, allowZero, out duration);
    }

    /// <summary>
    /// The short form used in reports and messages, as users write durations: <c>20s</c>, <c>1.5s</c>, <c>2m</c>,
    /// <c>1m30s</c>, <c>1h30m</c>, <c>168h</c> (hours, not days: a run's length reads best in hours).
    /// </summary>
    public static string Format(TimeSpan duration)
    {
        if (duration.TotalSeconds < 60 || duration.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        }

        var hours = (long)duration.TotalHours;
        var text = new System.Text.StringBuilder();
        if (hours > 0)
            text.Append(CultureInfo.InvariantCulture, $"{hours}h");
        if (duration.Minutes > 0)
            text.Append(CultureInfo.InvariantCulture, $"{duration.Minutes}m");
        if (duration.Seconds > 0)
            text.Append(CultureInfo.InvariantCulture, $"{duration.Seconds}s");
        return text.ToString();
    }

    /// <summary>The shortest duration: the finest unit written (ms). Less would round to nothing, not be "positive".</summary>
    public static readonly TimeSpan Min = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest duration: a week is far beyond any sensible simulation, and keeps every deadline sum in range.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(7);

    private static bool FromSeconds(double seconds, bool allowZero, out TimeSpan duration)
    {
        if (allowZero && seconds == 0)
        {
            duration = TimeSpan.Zero;
            return true;
        }

        if (!double.IsFinite(seconds) || seconds < Min.TotalSeconds || seconds > Max.TotalSeconds)
        {
            duration = TimeSpan.Zero;
            return false;
        }

        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    [GeneratedRegex(@"(?<n>[0-9]+(\.[0-9]+)?)(?<u>ms|s|m|h|d)")]
    private static partial Regex Part();
}
