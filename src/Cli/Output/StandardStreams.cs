using System.Text;

namespace HekiActors.Cli.Output;

/// <summary>
/// Standard output and error as writers that report failures (<see cref="CheckedStream"/>): written straight to file
/// descriptors 1 and 2 (<see cref="FileDescriptorStream"/>), UTF-8 without a byte order mark, "\n" line ends, flushed at every write, safe from many threads.
/// </summary>
public static class StandardStreams
{
    public const string OutputName = "standard output";

    public const string ErrorName = "standard error";

    private static readonly Lazy<TextWriter> LazyOutput = new(() => Open(1, OutputName, Console.OpenStandardOutput));
    private static readonly Lazy<TextWriter> LazyError = new(() => Open(2, ErrorName, Console.OpenStandardError, capUserText: true));

    /// <summary>This process's standard output.</summary>
    public static TextWriter Output => LazyOutput.Value;

    /// <summary>
    /// This process's standard error (a command compares its error writer with it to know it may draw on a terminal); the
    /// user text its messages echo is capped there (<see cref="UserText"/>).
    /// </summary>
    public static TextWriter Error => LazyError.Value;

    private static TextWriter Open(int fd, string name, Func<Stream> console, bool capUserText = false)
    {
        // Windows has no file descriptors to write to; its console stream reports broken pipes itself.
        var stream = OperatingSystem.IsWindows() ? console() : new FileDescriptorStream(fd);
        var writer = new StreamWriter(new CheckedStream(stream, name), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 4096)
        {
            AutoFlush = true,
            NewLine = "\n",
        };
        return TextWriter.Synchronized(capUserText ? new UserText.CappingWriter(writer) : writer);
    }
}
