namespace HekiActors.Actors.Supervision;

/// <summary>Where printed kernel warnings go (the kernel log): a terminal's stderr, a file, a test's list.</summary>
public interface IWarningSink
{
    void Write(string line);
}

/// <summary>Writes each warning as one line to a <see cref="TextWriter"/> (replay uses standard error).</summary>
public sealed class TextWriterWarningSink(TextWriter writer) : IWarningSink
{
    private readonly Lock _gate = new();

    public void Write(string line)
    {
        lock (_gate)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }
}
