using System.Text;
using CsCheck;

namespace HekiActors.Tests.Shared;

/// <summary>
/// Inputs for robustness properties: valid inputs mutated the ways real damage and attacks look (bit flips,
/// truncations, splices, duplicated fragments, deep nesting, huge numbers, invalid UTF-8, stray syntax), and raw
/// random bytes. Each mutation is drawn from a seed CsCheck generates, so a failure reproduces from CsCheck's seed.
/// </summary>
internal static class InputMutations
{
    /// <summary>Mutated inputs stay below this size, so 10,000 of them run in seconds.</summary>
    public const int MaxBytes = 64 << 10;

    private static readonly byte[][] HugeNumbers =
    [
        .. new[]
        {
            new string('9', 400), "18446744073709551616", "18446744073709551615", "9223372036854775808", "-9223372036854775809",
            "2147483648", "-1", "-0", "0", "1e999999", "1e-400", "-1e-400", "0.0000001", "1.7976931348623157e308", "4.9e-324",
            "72057594037927936", "17592186044417", "NaN", ".inf", "-.inf", "0x10", "0o7", "1_000", "+5", "00012",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xFE], [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0xEF, 0xBB, 0xBF], [0x00],
    ];

    private static readonly byte[][] Openers =
        [.. new[] { "[", "{", "{\"a\":", "[{\"a\":", "a: ", "- ", "  ", "{a: ", "[[", "? " }.Select(Encoding.UTF8.GetBytes)];

    /// <summary>Inputs made from <paramref name="corpus"/> by one to four mutations; <paramref name="syntax"/> holds the format's own tokens.</summary>
    public static Gen<byte[]> Mutated(IReadOnlyList<byte[]> corpus, IReadOnlyList<string> syntax)
    {
        var tokens = syntax.Select(Encoding.UTF8.GetBytes).ToArray();
        return Gen.Select(Gen.Int[0, corpus.Count - 1], Gen.Int[0, corpus.Count - 1], Gen.Int, Gen.Int[1, 4],
            (a, b, seed, count) => Mutate(corpus[a], corpus[b], new Random(seed), count, tokens));
    }

    /// <summary>Random inputs: raw bytes, or a soup of the format's tokens, numbers and invalid bytes.</summary>
    public static Gen<byte[]> Random(IReadOnlyList<string> syntax)
    {
        var tokens = syntax.Select(Encoding.UTF8.GetBytes).Concat(HugeNumbers).Concat(InvalidUtf8).ToArray();
        return Gen.OneOf(
            Gen.Byte.Array[0, 300],
            Gen.Int[0, tokens.Length - 1].Array[0, 80].Select(picks => picks.SelectMany(i => tokens[i]).ToArray()));
    }

    private static byte[] Mutate(byte[] input, byte[] other, Random random, int count, byte[][] tokens)
    {
        var bytes = new List<byte>(input);
        for (var i = 0; i < count; i++)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(10))
            {
                case 0: // bit flips
                    for (var n = random.Next(1, 9); n > 0 && bytes.Count > 0; n--)
                    {
                        var p = random.Next(bytes.Count);
                        bytes[p] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1: // truncation
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2: // splice: this input's head, the other's tail
                    bytes.RemoveRange(at, bytes.Count - at);
                    bytes.AddRange(other.Skip(random.Next(other.Length + 1)));
                    break;
                case 3: // a fragment duplicated, up to many times
                {
                    var start = random.Next(bytes.Count + 1);
                    var fragment = bytes.Skip(start).Take(random.Next(1, 40)).ToArray();
                    var times = random.Next(4) == 0 ? random.Next(2, 2000) : random.Next(1, 4);
                    bytes.InsertRange(Math.Min(at, bytes.Count), Enumerable.Repeat(fragment, times).SelectMany(f => f).ToArray());
                    break;
                }

                case 4: // deep nesting
                {
                    var opener = Openers[random.Next(Openers.Length)];
                    var depth = random.Next(2) == 0 ? random.Next(10, 40) : random.Next(1000, 12_000);
                    var nested = Enumerable.Repeat(opener, depth).SelectMany(o => o);
                    if (opener[0] == (byte)'-' || opener[0] == (byte)' ')
                        nested = Enumerable.Range(0, Math.Min(depth, 2000)).SelectMany(d => Encoding.UTF8.GetBytes("\n" + new string(' ', d) + "a:"));
                    bytes.InsertRange(at, nested.Take(MaxBytes).ToArray());
                    break;
                }

                case 5: // a huge or odd number
                    bytes.InsertRange(at, HugeNumbers[random.Next(HugeNumbers.Length)]);
                    break;
                case 6: // invalid UTF-8
                    bytes.InsertRange(at, InvalidUtf8[random.Next(InvalidUtf8.Length)]);
                    break;
                case 7: // the format's own syntax in the wrong place
                    bytes.InsertRange(at, tokens[random.Next(tokens.Length)]);
                    break;
                case 8: // a slice deleted
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 20), bytes.Count - at));
                    break;
                default: // a byte replaced by a control character or line break
                    if (bytes.Count > 0)
                        bytes[random.Next(bytes.Count)] = (byte)"\r\n\t\0\u001b\u007f"[random.Next(6)];
                    break;
            }

            if (bytes.Count > MaxBytes)
                bytes.RemoveRange(MaxBytes, bytes.Count - MaxBytes);
        }

        return [.. bytes];
    }
}
