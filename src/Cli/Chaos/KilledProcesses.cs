using System.Globalization;

namespace HekiActors.Cli.Chaos;

/// <summary>
/// A <c>heki chaos --kill-process</c> run as its parent saw it so far: when the run started and each child killed before
/// the one now running. The parent hands it to each child in <see cref="Variable"/>; the last child's report describes
/// the whole run with it (its header lists every process and its kill point, its elapsed time is the whole run's),
/// as its counts already are (rebuilt from the acknowledgement log).
/// </summary>
/// <param name="StartedUtc">When the parent started the first child.</param>
/// <param name="Asked">The kills <c>--kill-process</c> asked for: a run bounded by <c>--duration</c> makes fewer when its time is
/// spent first.</param>
/// <param name="Killed">The children killed so far, in order.</param>
public sealed record KilledProcesses(DateTime StartedUtc, int Asked, IReadOnlyList<KilledProcess> Killed)
{
    /// <summary>The environment variable a child finds its run's history in.</summary>
    public const string Variable = "HEKI_CHAOS_KILLED_PROCESSES";

    /// <summary>The text of <see cref="Variable"/>: <c>START-TICKS,ASKED</c>, then <c>;PID,TICKS,LINES,LEAST</c> per killed child.</summary>
    public string ToVariable() =>
        string.Concat(
            FormattableString.Invariant($"{StartedUtc.Ticks},{Asked}"),
            string.Concat(Killed.Select(k => FormattableString.Invariant($";{k.Pid},{k.Ran.Ticks},{k.LogLines},{k.LeastLogLines}"))));

    /// <summary>This process's run history when it is a child of <c>--kill-process</c>; null otherwise (or when the text is not one).</summary>
    public static KilledProcesses? FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    internal static KilledProcesses? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        var parts = text.Split(';');
        var head = parts[0].Split(',');
        if (head.Length != 2 || !long.TryParse(head[0], NumberStyles.None, CultureInfo.InvariantCulture, out var started)
            || !int.TryParse(head[1], NumberStyles.None, CultureInfo.InvariantCulture, out var asked))
            return null;
        var killed = new List<KilledProcess>();
        foreach (var part in parts.Skip(1))
        {
            var fields = part.Split(',');
            if (fields.Length != 4 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var lines)
                || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var least))
                return null;
            killed.Add(new KilledProcess(pid, TimeSpan.FromTicks(ticks), lines, least));
        }

        return new KilledProcesses(new DateTime(started, DateTimeKind.Utc), asked, killed);
    }

    /// <summary>The history with <paramref name="process"/> killed after the others.</summary>
    public KilledProcesses With(KilledProcess process) => this with { Killed = [.. Killed, process] };
}

/// <summary>A child of <c>--kill-process</c> killed with SIGKILL.</summary>
/// <param name="Pid">Its process id.</param>
/// <param name="Ran">From its start to its end.</param>
/// <param name="LogLines">The acknowledgement log lines it wrote (the kill point).</param>
/// <param name="LeastLogLines">The least number of lines the seed chose for it (docs/chaos.md, "Killing the process").</param>
public sealed record KilledProcess(int Pid, TimeSpan Ran, long LogLines, long LeastLogLines);

/// <summary>The processes of a <c>--kill-process</c> run as its report shows them: the killed ones, then the last.</summary>
/// <param name="History">The children killed before the last.</param>
/// <param name="LastPid">The last child (the one writing the report).</param>
/// <param name="LastRan">From its start to its report.</param>
/// <param name="LastStopped">Whether a signal stopped it (else it ran to the end).</param>
public sealed record ProcessRuns(KilledProcesses History, int LastPid, TimeSpan LastRan, bool LastStopped)
{
    /// <summary>The whole run: from the first child's start to now.</summary>
    public TimeSpan Elapsed(DateTime nowUtc) => nowUtc - History.StartedUtc;

    /// <summary>Each process in order: its pid, time, and how it ended (<c>killed</c>, <c>ran to the end</c>, <c>stopped by a signal</c>) with its log lines for a killed one.</summary>
    public IEnumerable<(int Number, int Pid, TimeSpan Ran, string Ended, KilledProcess? Killed)> All() =>
        History.Killed.Select((k, i) => (i + 1, k.Pid, k.Ran, "killed", (KilledProcess?)k))
            .Append((History.Killed.Count + 1, LastPid, LastRan, LastStopped ? "stopped by a signal" : "ran to the end", null));
}
