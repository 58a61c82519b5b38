using System.Globalization;
using System.Text.RegularExpressions;

namespace HekiActors.Cli.Simulate;

/// <summary>Durations as users write them: <c>20s</c>, <c>2m</c>, <c>1m30s</c>, <c>500ms</c>, <c>1h</c>, or a bare number of seconds.</summary>
public static partial class DurationText
{
    /// <summary>
    /// Parses a duration from <see cref="Min"/> to <see cref="Max"/> (or exactly zero, in any unit, when
    /// <paramref name="allowZero"/>); false for anything else (too short, negative, unknown unit).
    /// </summary>
    public static bool TryParse(string? text, out TimeSpan duration, bool allowZero = false)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
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
        foreach (Match m in matches)
        {
            var value = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            total += m.Groups["u"].Value switch
            {
                "ms" => value / 1000,
                "s" => value,
                "m" => value * 60,
                _ => value * 3600,
            };
        }

        return FromSeconds(total, allowZero, out duration);
    }

    /// <summary>The short form used in reports: <c>20s</c>, <c>2m</c>, <c>1m30s</c>, <c>1.5s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration.TotalSeconds < 60 || duration.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        }

        var minutes = (long)duration.TotalMinutes;
        var seconds = duration.Seconds;
        return seconds == 0 ? $"{minutes}m" : $"{minutes}m{seconds}s";
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

    [GeneratedRegex(@"(?<n>[0-9]+(\.[0-9]+)?)(?<u>ms|s|m|h)")]
    private static partial Regex Part();
}
