namespace HekiActors.Cli.Output;

/// <summary>
/// Writing an output failed (the reader of standard output went away, the disk is full, an I/O error): the command
/// stops, says so in one line, and exits with <see cref="ExitCodes.OutputFailed"/>. Not a bug: the world outside changed.
/// </summary>
/// <param name="Target">The output in the user's words: "standard output", "--record run.jsonl".</param>
public sealed class OutputFailedException(string target, Exception inner)
    : IOException($"cannot write {target}: {Describe(inner)}", inner)
{
    public string Target { get; } = target;

    /// <summary>The operating system's words without .NET's " : 'path'" suffix (the target already names the file).</summary>
    internal static string Describe(Exception e)
    {
        if (e is UnauthorizedAccessException)
            return "permission denied";
        var message = e.Message;
        var suffix = message.IndexOf(" : '", StringComparison.Ordinal);
        return suffix > 0 ? message[..suffix] : message;
    }
}
