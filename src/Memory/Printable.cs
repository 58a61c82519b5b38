using System.Text;

namespace HekiActors.Memory;

/// <summary>
/// Text from an input (a VM id, a journal's persistence id, a replay line's value) as every message shows it: control
/// characters written as JSON escapes (<c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\u001b</c>), so a message stays one line
/// and no input can move the cursor or colour a terminal. The one rule for text output (docs/reliability.md).
/// </summary>
public static class Printable
{
    /// <summary><paramref name="text"/> with its control characters escaped; the same string when it has none.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
            return text;
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\n' => escaped.Append("\\n"),
                '\r' => escaped.Append("\\r"),
                '\t' => escaped.Append("\\t"),
                _ when char.IsControl(c) => escaped.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)),
                _ => escaped.Append(c),
            };
        }

        return escaped.ToString();
    }
}
