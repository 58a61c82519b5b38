using HekiActors.Actors.Supervision;

namespace HekiActors.Cli.Output;

/// <summary>
/// Prints kernel warnings to a writer and, when that fails (standard error closed or full), keeps the failure for the
/// command to act on instead of throwing into the warning supervisor, which would restart and drop warnings silently.
/// </summary>
public sealed class CheckedWarningSink(TextWriter writer) : IWarningSink
{
    private readonly Lock _gate = new();
    private OutputFailedException? _failure;

    /// <summary>The first failure, if writing ever failed; nothing is written after it.</summary>
    public OutputFailedException? Failure
    {
        get
        {
            lock (_gate)
                return _failure;
        }
    }

    public void Write(string line)
    {
        lock (_gate)
        {
            if (_failure is not null)
                return;
            try
            {
                writer.WriteLine(line);
                writer.Flush();
            }
            catch (OutputFailedException e)
            {
                _failure = e;
            }
        }
    }
}
