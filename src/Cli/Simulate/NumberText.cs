using System.Globalization;

namespace HekiActors.Cli.Simulate;

/// <summary>Numbers as settings write them (invariant culture), with the checks every numeric setting shares.</summary>
public static class NumberText
{
    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>]; an optional leading sign, no spaces, no separators.</summary>
    public static bool TryInteger(string text, long min, long max, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    /// <summary>An unsigned integer in [<paramref name="min"/>, <paramref name="max"/>]; an optional leading +.</summary>
    public static bool TryUnsigned(string text, ulong min, ulong max, out ulong value) =>
        ulong.TryParse(text.StartsWith('+') ? text[1..] : text, NumberStyles.None, CultureInfo.InvariantCulture, out value)
        && value >= min && value <= max;

    /// <summary>
    /// A finite number in [<paramref name="min"/>, <paramref name="max"/>] that is either exactly 0 or at least
    /// <paramref name="smallestNonZero"/>, the finest step the setting has any effect at. A literal that is not zero but
    /// parses to 0 (1e-400 underflows) or rounds to nothing in the model (a share below its resolution) is refused:
    /// the user asked for something and would silently get nothing.
    /// </summary>
    public static bool TryNumber(string text, double min, double max, double smallestNonZero, out double value) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out value)
        && double.IsFinite(value) && value >= min && value <= max
        && (value == 0 ? !HasNonZeroDigit(text) : Math.Abs(value) >= smallestNonZero);

    /// <summary>Whether a number's mantissa (before any exponent) has a digit other than 0.</summary>
    private static bool HasNonZeroDigit(string text)
    {
        foreach (var c in text)
        {
            if (c is 'e' or 'E')
            {
                return false;
            }

            if (c is >= '1' and <= '9')
            {
                return true;
            }
        }

        return false;
    }
}
