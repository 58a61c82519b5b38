using HekiActors.Actors.Supervision;

namespace HekiActors.Simulation;

/// <summary>Counts the kernel warnings a simulation prints (thousands of lines are nobody's report) and passes them on if asked.</summary>
public sealed class CountingWarningSink(IWarningSink? inner = null) : ILineCountingSink
{
    private long _lines;

    public long Lines => Interlocked.Read(ref _lines);

    public bool ReadsText => inner is not null;

    public void CountLine() => Interlocked.Increment(ref _lines);

    public void Write(string line)
    {
        Interlocked.Increment(ref _lines);
        inner?.Write(line);
    }
}
