using System.Diagnostics;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Chaos;

/// <summary>
/// <c>heki chaos --kill-process N</c>: the parent a user's supervisor would be. It runs the chaos run in a child
/// <c>heki chaos</c> on a SQLite journal with an acknowledgement log, kills the child with SIGKILL after a number of
/// acknowledged operations decided by the seed, and starts it again on the same journal and log, N times; the last
/// child runs to the end and its report (and exit status) is the run's. Each restarted child rebuilds the oracle from
/// the log, resends the operation that may have been in flight (same id) and probes every acknowledged protection,
/// register and pin of its VMs before it goes on (docs/chaos.md, "Killing the process"). Each child takes the journal's
/// lock for its life (the kernel drops a killed child's); the parent never holds it while a child runs.
/// </summary>
public static class ChaosProcessSupervisor
{
    /// <summary>How often the parent looks at the log's length while a child runs (it has nothing to be woken by).</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <param name="childArguments">The child's <c>heki chaos</c> options (the journal, the log, the run), without --kill-process.</param>
    /// <param name="log">The acknowledgement log the children write.</param>
    /// <param name="deadline">When the run must end (a duration-bounded run): each child gets what is left, and once it is
    /// spent no child is killed (nor started again): the one running then is the last, and its report says how many of the
    /// <paramref name="kills"/> happened.</param>
    public static int Run(IReadOnlyList<string> childArguments, string log, int kills, ulong seed, DateTime? deadline, TextWriter stderr,
        CancellationToken stop)
    {
        // Each child is told the run so far: the last one's report describes the whole run (KilledProcesses).
        var history = new KilledProcesses(DateTime.UtcNow, kills, []);
        bool TimeUp() => deadline is { } end && DateTime.UtcNow >= end;
        for (var process = 0; ; process++)
        {
            var arguments = new List<string>(childArguments);
            // In milliseconds: whole seconds rounded up to 1 gave each late child a second more (QA M5). A child is started
            // only after a kill made before the deadline, so it has time left but for the instant the kill took; it gets at
            // least 1 ms to recover, probe and report (the run's report is the last child's).
            if (deadline is { } end)
                arguments.AddRange(["--duration", $"{Math.Max(1, (long)Math.Ceiling((end - DateTime.UtcNow).TotalMilliseconds))}ms"]);
            var lines = new LogLineCounter(log);
            var start = lines.Count();
            var started = Stopwatch.StartNew();
            using var child = Start(arguments, history);
            _current = child;
            if (process == kills)
                return Last(child, lines, start, stop);

            // The kill point: at least this many log lines after this child started, decided by the seed. The child logs on
            // until the SIGKILL lands (after the poll that sees them): the exact point is not reproducible (docs/chaos.md).
            var after = 150 + (long)(Hash(seed, (ulong)process) % 600);
            while (!child.HasExited && lines.Count() - start < after && !stop.IsCancellationRequested && !TimeUp())
                Thread.Sleep(Poll); // polling a file another process writes
            if (stop.IsCancellationRequested && !child.HasExited)
            {
                Forward(child, lines, start);
                child.WaitForExit();
                stderr.WriteLine($"heki chaos: stopped by a signal before kill {process + 1} of {kills}");
                return child.ExitCode;
            }

            if (child.HasExited)
            {
                child.WaitForExit();
                stderr.WriteLine(child.ExitCode == ExitCodes.JournalInUse
                    ? $"heki chaos: another process took the journal while no child held it (before kill {process + 1} of {kills}); stopping"
                    : $"heki chaos: the run ended before kill {process + 1} of {kills}");
                return child.ExitCode;
            }

            if (TimeUp())
            {
                // Its own --duration ends it (it counts from its own start, so a little after the deadline).
                stderr.WriteLine($"heki chaos: --duration spent after {process} of {kills} kills; process {child.Id} is the last");
                return Last(child, lines, start, stop);
            }

            var pid = child.Id;
            child.Kill(entireProcessTree: false); // SIGKILL
            child.WaitForExit();
            var killedAfter = lines.Count() - start;
            history = history.With(new KilledProcess(pid, started.Elapsed, killedAfter, after));
            stderr.WriteLine($"heki chaos: killed process {pid} with SIGKILL after {killedAfter} more log lines "
                             + $"(the seed's least: {after}; kill {process + 1} of {kills}); starting it again on the same journal");
        }
    }

    /// <summary>Waits for the last child, which runs to its end and reports the whole run; a stop is passed on to it.</summary>
    private static int Last(Process child, LogLineCounter lines, long start, CancellationToken stop)
    {
        child.WaitForExitAsync(stop).ContinueWith(_ => { }, TaskScheduler.Default).GetAwaiter().GetResult();
        if (!child.HasExited)
        {
            // Stopped by a signal: pass it on as SIGTERM (the child ignores a terminal's SIGINT and SIGHUP) and wait for its report.
            Forward(child, lines, start);
            child.WaitForExit();
        }

        return child.ExitCode;
    }

    /// <summary>Set in the child's environment: only its parent stops it (SIGTERM); a terminal's SIGINT or SIGHUP, which
    /// reaches the whole process group, is left to the parent, which passes it on once.</summary>
    public const string ChildVariable = "HEKI_CHAOS_SUPERVISED";

    /// <summary>What a child writes into the journal's lock file: a refused process names the parent to stop too.</summary>
    public static string ChildOwner => $"heki chaos, a --kill-process child of process {Mono.Unix.Native.Syscall.getppid()}";

    private static volatile Process? _current;

    /// <summary>For a second signal to the parent, which then ends at once: the child must not run on without it.</summary>
    public static void KillChild()
    {
        try
        {
            _current?.Kill(entireProcessTree: false);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    /// <summary>How long a stop waits for a child that is still starting before it is passed on all the same.</summary>
    private static readonly TimeSpan StartingBound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Passes a stop on to <paramref name="child"/> as SIGTERM once it runs its chaos loop (it has logged an operation
    /// since it started, so its own handler is in place): a SIGTERM to a child still starting would end it by the
    /// default action, without its report. Bounded by <see cref="StartingBound"/>.
    /// </summary>
    private static void Forward(Process child, LogLineCounter lines, long start)
    {
        var deadline = DateTime.UtcNow + StartingBound;
        while (!child.HasExited && lines.Count() == start && DateTime.UtcNow < deadline)
            Thread.Sleep(Poll); // polling a file another process writes
        Forward(child);
    }

    private static void Forward(Process child)
    {
        try
        {
            _ = Mono.Unix.Native.Syscall.kill(child.Id, Mono.Unix.Native.Signum.SIGTERM);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static Process Start(IReadOnlyList<string> arguments, KilledProcesses history) =>
        HekiChildProcess.Start(["chaos", .. arguments],
            new Dictionary<string, string> { [ChildVariable] = "1", [KilledProcesses.Variable] = history.ToVariable() }, redirect: false);

    private static ulong Hash(ulong seed, ulong process)
    {
        var x = seed ^ (process + 0x9E3779B97F4A7C15UL) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
