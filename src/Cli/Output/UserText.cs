using System.Globalization;
using System.Text;

namespace HekiActors.Cli.Output;

/// <summary>
/// The cap on user text a message echoes (a scenario file, VM, role or host name, a path, an option's value): every
/// run of characters without white space longer than <see cref="MaxWord"/> is cut to its first <see cref="MaxWord"/>
/// characters and <c>…(N chars)</c>. A 100 KB name was echoed in full, sometimes twice (in heki's words and in .NET's
/// "The path '...' is too long"). Applied to everything written to standard error (<see cref="StandardStreams.Error"/>),
/// so no message needs to remember it; data on standard output (reports, replay results, journal listings) is not cut.
/// </summary>
public static class UserText
{
    /// <summary>The longest word shown in full: longer than any real path or name, short enough for a terminal.</summary>
    public const int MaxWord = 200;

    /// <summary><paramref name="text"/> with each word longer than <see cref="MaxWord"/> characters cut (the text itself when none is).</summary>
    public static string Cap(string text)
    {
        StringBuilder? capped = null;
        var copied = 0;
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && !char.IsWhiteSpace(text[i]))
                continue;
            if (i - start > MaxWord)
            {
                capped ??= new StringBuilder(text.Length > 4 * MaxWord ? 4 * MaxWord : text.Length);
                capped.Append(text, copied, start + MaxWord - copied)
                    .Append("…(").Append((i - start).ToString("N0", CultureInfo.InvariantCulture)).Append(" chars)");
                copied = i;
            }

            start = i + 1;
        }

        return capped is null ? text : capped.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>A writer that caps what is written through it (<see cref="Cap"/>) one string at a time.</summary>
    internal sealed class CappingWriter(TextWriter inner) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;

        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string NewLine
        {
            get => inner.NewLine;
            set => inner.NewLine = value;
        }

        public override void Write(char value) => inner.Write(value);

        public override void Write(char[] buffer, int index, int count) => inner.Write(buffer, index, count);

        public override void Write(string? value) => inner.Write(value is null ? null : Cap(value));

        public override void WriteLine(string? value) => inner.WriteLine(value is null ? null : Cap(value));

        public override void WriteLine() => inner.WriteLine();

        public override void Flush() => inner.Flush();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
