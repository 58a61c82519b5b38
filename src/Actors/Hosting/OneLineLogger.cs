using Akka.Event;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// Akka's console logger for every HekiActors actor system (<c>akka.stdout-logger-class</c>): one line per event, the
/// cause as its type and the innermost message instead of a stack trace. A node's log is read by people watching a
/// cluster; an injected crash or a port in use printed Akka's 40-line nested trace per event.
/// </summary>
/// <remarks>Format: <c>[LEVEL][HH:mm:ss.fffZ][source] message (ExceptionType: innermost message)</c>, to standard output.</remarks>
public sealed class OneLineLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        if (message is LogEvent e)
        {
            if (Filter.ShouldTryKeepMessage(e, out _))
                Console.Out.WriteLine(Format(e));
            return;
        }

        Console.Out.WriteLine(message);
    }

    /// <summary>The line printed for <paramref name="e"/> (no line breaks: the message's own are replaced by spaces).</summary>
    public static string Format(LogEvent e)
    {
        string message;
        try
        {
            message = e.Message?.ToString() ?? "";
        }
        catch (FormatException)
        {
            // A log call whose format and arguments disagree: print what it gave, not nothing.
            message = e.Message is LogMessage m ? $"{m.Format} [{m.Unformatted()}]" : "(unformattable message)";
        }

        var text = $"[{Level(e)}][{e.Timestamp.ToUniversalTime():HH:mm:ss.fff}Z][{e.LogSource}] {message}";
        if (e.Cause is { } cause)
        {
            var innermost = cause.Innermost();
            text += ReferenceEquals(innermost, cause)
                ? $" ({cause.GetType().Name}: {cause.Message})"
                : $" ({cause.GetType().Name}, caused by {innermost.GetType().Name}: {innermost.Message})";
        }

        return string.Join(' ', text.ReplaceLineEndings("\n").Split('\n').Where(line => !IsTraceLine(line)));
    }

    /// <summary>A stack frame or trace separator that a library put into a message's own text (Akka.Remote does).</summary>
    private static bool IsTraceLine(string line)
    {
        var trimmed = line.TrimStart();
        return (trimmed.StartsWith("at ", StringComparison.Ordinal) && trimmed.Contains('(', StringComparison.Ordinal))
               || trimmed.StartsWith("--- End of", StringComparison.Ordinal);
    }

    private static string Level(LogEvent e) => e.LogLevel() switch
    {
        LogLevel.DebugLevel => "DEBUG",
        LogLevel.InfoLevel => "INFO",
        LogLevel.WarningLevel => "WARNING",
        LogLevel.ErrorLevel => "ERROR",
        var other => other.ToString(),
    };
}
