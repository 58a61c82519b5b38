using System.Globalization;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// VM ids in the order of their trailing numbers where their stems are equal (<c>chaos-2</c> before <c>chaos-10</c>;
/// <c>sim-00002</c> before <c>sim-00010</c> as in text order), else in text order.
/// </summary>
internal sealed class NumberedIds : IComparer<string>
{
    public static readonly NumberedIds Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
            return string.CompareOrdinal(x, y);
        var (xStem, xNumber) = Split(x);
        var (yStem, yNumber) = Split(y);
        var stems = string.CompareOrdinal(xStem, yStem);
        if (stems != 0 || xNumber is null || yNumber is null)
            return stems != 0 ? stems : string.CompareOrdinal(x, y);
        var numbers = xNumber.Value.CompareTo(yNumber.Value);
        return numbers != 0 ? numbers : string.CompareOrdinal(x, y);
    }

    private static (string Stem, System.Numerics.BigInteger? Number) Split(string id)
    {
        var digits = id.Length;
        while (digits > 0 && char.IsAsciiDigit(id[digits - 1]))
            digits--;
        return digits == id.Length ? (id, null)
            : (id[..digits], System.Numerics.BigInteger.Parse(id.AsSpan(digits), NumberStyles.None, CultureInfo.InvariantCulture));
    }
}
