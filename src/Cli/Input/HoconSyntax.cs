namespace HekiActors.Cli.Input;

/// <summary>
/// The structure of a HOCON settings file, checked before Akka's parser reads it: that parser takes almost any text
/// without a word (<c>akka { loglevel = </c> cut off became a setting with no value, which Akka then refused as
/// "&lt;&lt;unknown value&gt;&gt;"; a stray <c>}</c> or <c>=</c> was dropped silently), and an unclosed list
/// (<c>loggers = [ "a"</c> then <c>}</c>) made it loop, its memory growing by about 200 MB a second.
/// </summary>
/// <remarks>
/// Checks only what those failures need, and nothing HOCON allows: braces and brackets that close what they opened,
/// quoted text that ends, <c>${...}</c> that ends, every setting with a name (no empty part between dots) followed by
/// <c>=</c>, <c>:</c>, <c>+=</c> or <c>{</c>, then a value (on the same line or a later one; no quoted white space at
/// either end, which Akka's reader trims away), then the end of the line,
/// a comma or the section's end; no <c>include</c>. Comments (<c>#</c>, <c>//</c>), root braces, value concatenation
/// (<c>a = b c</c>) and a trailing comma are taken.
/// </remarks>
internal static class HoconSyntax
{
    /// <summary>Null when <paramref name="text"/> is well formed; otherwise <c>line N: what is wrong</c>.</summary>
    public static string? Problem(string text) => new Checker(text).Run();

    private enum Kind { Text, Quoted, Substitution, Open, Close, OpenList, CloseList, Comma, Separator, Newline, End }

    private readonly record struct Token(Kind Kind, string Text, int Line, bool SpaceBefore);

    private sealed class Checker(string text)
    {
        private int _position;
        private int _line = 1;
        private Token _token;
        private string? _problem;

        public string? Run()
        {
            Next();
            SkipNewlines();
            var rootBraces = _token.Kind == Kind.Open;
            if (rootBraces)
            {
                var line = _token.Line;
                Next();
                if (!Object(closedBy: Kind.Close, line))
                    return _problem;
                Next();
                SkipNewlines();
                if (_problem is null && _token.Kind != Kind.End)
                    Fail(_token.Line, $"{Describe(_token)} after the file's closing '}}'");
                return _problem;
            }

            Object(closedBy: Kind.End, 0);
            return _problem;
        }

        /// <summary>The settings of a section up to its <paramref name="closedBy"/> token (left current); false on a problem.</summary>
        private bool Object(Kind closedBy, int openedOn)
        {
            while (true)
            {
                SkipNewlinesAndCommas();
                if (_problem is not null)
                    return false;
                if (_token.Kind == closedBy)
                    return true;
                switch (_token.Kind)
                {
                    case Kind.End:
                        return Fail(openedOn, "the '{' opened on this line is never closed");
                    case Kind.Close:
                        return Fail(_token.Line, "'}' closes nothing");
                    case Kind.CloseList:
                        return Fail(_token.Line, closedBy == Kind.Close ? $"']' where the section opened on line {openedOn} needs '}}'" : "']' closes nothing");
                    case Kind.Separator:
                        return Fail(_token.Line, $"'{_token.Text}' without a setting name before it");
                    case Kind.Open or Kind.OpenList:
                        return Fail(_token.Line, $"'{_token.Text}' without a setting name before it");
                }

                if (_token is { Kind: Kind.Text, Text: "include" })
                {
                    // Akka's parser has no file resolver here (it crashed on include "f") and reads required(file("f")) as a key.
                    return Fail(_token.Line, "include is not supported: put the settings in the file itself");
                }

                if (!Setting(closedBy))
                    return false;
            }
        }

        /// <summary>One <c>name = value</c> or <c>name { ... }</c>, up to the token after its value.</summary>
        private bool Setting(Kind closedBy)
        {
            var line = _token.Line;
            var name = new System.Text.StringBuilder();
            var onlyUnquoted = true;
            while (_token.Kind is Kind.Text or Kind.Quoted)
            {
                if (_token.SpaceBefore && name.Length > 0)
                    name.Append(' ');
                name.Append(_token.Text);
                onlyUnquoted &= _token.Kind == Kind.Text;
                Next();
            }

            if (_problem is not null)
                return false;
            var shown = HoconFile.Excerpt(name.ToString(), 60);
            if (name.Length == 0)
                return Fail(line, $"{Describe(_token)} where a setting's name belongs");
            if (onlyUnquoted && name.ToString().Split('.').Any(part => part.Length == 0))
                return Fail(line, $"'{shown}' is not a setting name (an empty part between dots)");
            if (_token.Kind == Kind.Open)
            {
                var opened = _token.Line;
                Next();
                if (!Object(Kind.Close, opened))
                    return false;
                Next();
                return AfterValue(shown, closedBy);
            }

            if (_token.Kind != Kind.Separator)
            {
                return _token.Kind is Kind.Newline or Kind.End or Kind.Close or Kind.Comma
                    ? Fail(line, $"'{shown}' has no '=' and no value")
                    : Fail(line, $"{Describe(_token)} after '{shown}' where '=' belongs");
            }

            Next();
            SkipNewlines();
            if (!Value(shown, line))
                return false;
            return AfterValue(shown, closedBy);
        }

        /// <summary>A value: text, quoted text and substitutions concatenated on one line, a section or a list.</summary>
        private bool Value(string name, int line)
        {
            switch (_token.Kind)
            {
                case Kind.Open:
                {
                    var opened = _token.Line;
                    Next();
                    if (!Object(Kind.Close, opened))
                        return false;
                    Next();
                    return true;
                }
                case Kind.OpenList:
                {
                    var opened = _token.Line;
                    Next();
                    if (!List(opened))
                        return false;
                    Next();
                    return true;
                }
                case Kind.Text or Kind.Quoted or Kind.Substitution:
                {
                    // Concatenation: "a = b c", "a = ${x} d". Akka's reader trims the whole value: quoted white space at
                    // either end (roles = [" a"]) would be dropped without a word.
                    var first = _token;
                    var last = _token;
                    while (_token.Kind is Kind.Text or Kind.Quoted or Kind.Substitution)
                    {
                        last = _token;
                        Next();
                    }

                    // White space alone is an empty value, refused as one where a value is read.
                    if (_problem is null && !string.IsNullOrWhiteSpace(first.Text)
                        && ((first.Kind == Kind.Quoted && char.IsWhiteSpace(first.Text[0])) || (last.Kind == Kind.Quoted && char.IsWhiteSpace(last.Text[^1]))))
                    {
                        return Fail(first.Line, $"{name} has white space at the start or end of its quoted text, which Akka's reader drops: remove it");
                    }

                    return _problem is null;
                }
                default:
                    return Fail(line, $"{name} has no value{(_token.Kind == Kind.Separator ? $" (a second '{_token.Text}')" : "")}");
            }
        }

        private bool AfterValue(string name, Kind closedBy)
        {
            if (_problem is not null)
                return false;
            return _token.Kind is Kind.Newline or Kind.Comma or Kind.End || _token.Kind == closedBy
                ? true
                : Fail(_token.Line, $"{Describe(_token)} after the value of {name}");
        }

        /// <summary>A list's values up to its ']' (left current).</summary>
        private bool List(int openedOn)
        {
            while (true)
            {
                SkipNewlines();
                if (_problem is not null)
                    return false;
                switch (_token.Kind)
                {
                    case Kind.CloseList:
                        return true;
                    case Kind.End:
                        return Fail(openedOn, "the '[' opened on this line is never closed");
                    case Kind.Close:
                        return Fail(_token.Line, $"'}}' where the list opened on line {openedOn} needs ']'");
                    case Kind.Comma:
                        return Fail(_token.Line, "a list holds ',' without a value before it");
                    case Kind.Separator:
                        return Fail(_token.Line, $"'{_token.Text}' inside a list");
                }

                if (!Value("a list's element", _token.Line))
                    return false;
                SkipNewlines();
                if (_token.Kind == Kind.Comma)
                    Next();
                else if (_token.Kind is not (Kind.CloseList or Kind.End or Kind.Close))
                    return Fail(_token.Line, $"{Describe(_token)} in a list where ',' or ']' belongs");
            }
        }

        private void SkipNewlines()
        {
            while (_token.Kind == Kind.Newline)
                Next();
        }

        private void SkipNewlinesAndCommas()
        {
            while (_token.Kind is Kind.Newline or Kind.Comma)
                Next();
        }

        private bool Fail(int line, string what)
        {
            _problem ??= $"line {line}: {what}";
            _token = new Token(Kind.End, "", line, false);
            _position = text.Length;
            return false;
        }

        private static string Describe(Token token) => token.Kind switch
        {
            Kind.End => "the end of the file",
            Kind.Newline => "the end of the line",
            Kind.Text or Kind.Quoted => $"'{HoconFile.Excerpt(token.Text, 40)}'",
            Kind.Substitution => "a ${...}",
            _ => $"'{token.Text}'",
        };

        /// <summary>Reads the next token into <see cref="_token"/> (whitespace and comments skipped; a problem ends the file).</summary>
        private void Next()
        {
            if (_problem is not null)
                return;
            var space = false;
            while (_position < text.Length)
            {
                var c = text[_position];
                if (c == '#' || (c == '/' && At("//")))
                {
                    while (_position < text.Length && text[_position] != '\n')
                        _position++;
                }
                else if (c != '\n' && char.IsWhiteSpace(c) || c == '\uFEFF')
                {
                    _position++;
                    space = true;
                }
                else
                {
                    break;
                }
            }

            if (_position >= text.Length)
            {
                _token = new Token(Kind.End, "", _line, space);
                return;
            }

            var start = _position;
            var line = _line;
            var first = text[_position];
            switch (first)
            {
                case '\n':
                    _position++;
                    _line++;
                    _token = new Token(Kind.Newline, "\n", line, space);
                    return;
                case '{' or '}' or '[' or ']' or ',' or '=' or ':':
                    _position++;
                    _token = new Token(first switch
                    {
                        '{' => Kind.Open, '}' => Kind.Close, '[' => Kind.OpenList, ']' => Kind.CloseList, ',' => Kind.Comma, _ => Kind.Separator,
                    }, first.ToString(), line, space);
                    return;
                case '+' when At("+="):
                    _position += 2;
                    _token = new Token(Kind.Separator, "+=", line, space);
                    return;
                case '"' when At("\"\"\""):
                {
                    var end = text.IndexOf("\"\"\"", _position + 3, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        Fail(line, "the text opened with \"\"\" on this line is never closed");
                        return;
                    }

                    while (end + 3 < text.Length && text[end + 3] == '"')
                        end++;
                    _line += text.AsSpan(_position, end - _position).Count('\n');
                    _position = end + 3;
                    _token = new Token(Kind.Quoted, text[(start + 3)..end], line, space);
                    return;
                }
                case '"':
                {
                    _position++;
                    while (_position < text.Length && text[_position] is not ('"' or '\n'))
                        _position += text[_position] == '\\' ? 2 : 1;
                    if (_position >= text.Length || text[_position] != '"')
                    {
                        Fail(line, "a quoted text is not closed on its line");
                        return;
                    }

                    _position++;
                    _token = new Token(Kind.Quoted, text[(start + 1)..(_position - 1)], line, space);
                    return;
                }
                case '$' when At("${"):
                {
                    var end = text.IndexOfAny(['}', '\n'], _position);
                    if (end < 0 || text[end] != '}')
                    {
                        Fail(line, "a ${ is not closed with '}' on its line");
                        return;
                    }

                    _position = end + 1;
                    _token = new Token(Kind.Substitution, text[start.._position], line, space);
                    return;
                }
            }

            while (_position < text.Length)
            {
                var c = text[_position];
                if (char.IsWhiteSpace(c) || c is '{' or '}' or '[' or ']' or ',' or '=' or ':' or '"' or '#' || (c == '/' && At("//"))
                    || (c == '+' && At("+=")) || (c == '$' && At("${")))
                    break;
                _position++;
            }

            _token = new Token(Kind.Text, text[start.._position], line, space);
        }

        private bool At(string what) => string.CompareOrdinal(text, _position, what, 0, what.Length) == 0;
    }
}
