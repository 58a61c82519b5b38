using System.Runtime.InteropServices;

namespace HekiActors.Cli;

/// <summary>The exit status of every <c>heki</c> command (docs/reliability.md lists them for users).</summary>
public static class ExitCodes
{
    /// <summary>Everything ran: the simulation finished, or every replayed line ran without <c>"error"</c>.</summary>
    public const int Ok = 0;

    /// <summary>replay: at least one line got <c>"error"</c>. simulate: the run itself failed (a journal failing at run time, telemetry that could not start).</summary>
    public const int Failed = 1;

    /// <summary>Bad input: the command line, a scenario, a replay input, a journal file or an output path. Nothing ran.</summary>
    public const int Usage = 2;

    /// <summary>An output could not be written (standard output closed or full, a --report or --record file on a full disk); sysexits' EX_IOERR.</summary>
    public const int OutputFailed = 74;

    /// <summary>The journal is in use by another process; nothing ran. Trying again later may work (sysexits' EX_TEMPFAIL).</summary>
    public const int JournalInUse = 75;

    /// <summary>Stopped by a signal: 128 + its number, as a shell reports a process the signal ended (SIGHUP 129, SIGINT 130, SIGTERM 143).</summary>
    public static int StoppedBy(PosixSignal signal) => 128 + SignalNumber(signal);

    /// <summary>The Linux number of a signal (the <see cref="PosixSignal"/> values are .NET's own, negative).</summary>
    public static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => (int)signal > 0 ? (int)signal : throw new ArgumentOutOfRangeException(nameof(signal), signal, "not a stop signal"),
    };
}
