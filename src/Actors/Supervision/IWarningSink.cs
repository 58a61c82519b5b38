using HekiActors.Memory;

namespace HekiActors.Actors.Supervision;

/// <summary>Where printed kernel warnings go (the kernel log): a terminal's stderr, a file, a test's list.</summary>
public interface IWarningSink
{
    void Write(string line);
}

/// <summary>
/// A sink that may only count the lines printed: while it passes them nowhere (<see cref="ReadsText"/> false) and the Akka log
/// is off, the supervisor formats no line and calls <see cref="CountLine"/> instead of <see cref="IWarningSink.Write"/>
/// (issue 11: a 10,000-VM boot prints ~100,000 lines nobody reads).
/// </summary>
public interface ILineCountingSink : IWarningSink
{
    /// <summary>Whether a line's text is read (written somewhere); false: counting is all it does with a line.</summary>
    bool ReadsText { get; }

    /// <summary>One line printed, its text not made.</summary>
    void CountLine();
}

/// <summary>
/// A sink that also wants each rate-limited decision with the clock the limiter read (the chaos oracle checks
/// invariant 5 with it). Called on the supervisor's thread, before the line is written.
/// </summary>
public interface IWarningDecisionObserver
{
    void Decided(string vmId, HekiProfile profile, WarningSite site, bool printed, long timestamp, long frequency);

    /// <summary>
    /// A hardened VM's limiters were dropped (<see cref="ResetVmWarnings"/>: the VM was created or destroyed), in the
    /// supervisor's order among the decisions: a decision of the VM's previous incarnation still queued when the new one
    /// was acknowledged comes before it.
    /// </summary>
    void LimitsReset(string vmId);
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
