using System.Runtime.InteropServices;

namespace HekiActors.Cli;

/// <summary>
/// SIGINT (Ctrl+C), SIGTERM and SIGHUP for a command that can stop cleanly: the first asks it to stop (it finishes what
/// it is doing, writes what ran and exits <see cref="ExitCodes.StoppedBy"/>); a second one, of any of them, ends the
/// process at once with that same status.
/// </summary>
/// <remarks>
/// PosixSignalRegistration cancels the runtime's own handling, which for SIGTERM would run Akka's shutdown hooks
/// before exiting. Cancelling the token runs the command's stop callbacks on a thread of its own, so the signal thread
/// is free for the second signal even if a callback is slow.
/// </remarks>
public sealed class StopSignals : IDisposable
{
    private static readonly PosixSignal[] Handled = [PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP];

    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Action<PosixSignal> _onFirst;
    private readonly Action<PosixSignal> _onSecond;
    private int _received;

    /// <param name="onFirst">Says what is happening (e.g. "stopping..."); runs on the signal thread, so keep it short.</param>
    /// <param name="onSecond">Runs just before the process ends at once (flush what can be flushed).</param>
    private StopSignals(Action<PosixSignal> onFirst, Action<PosixSignal> onSecond)
    {
        _onFirst = onFirst;
        _onSecond = onSecond;
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>The first signal received, if any.</summary>
    public PosixSignal? Received { get; private set; }

    /// <summary>Handles SIGINT, SIGTERM and SIGHUP (or only <paramref name="only"/>) until disposed (where the platform offers them).</summary>
    public static StopSignals Register(Action<PosixSignal> onFirst, Action<PosixSignal>? onSecond = null, IReadOnlyList<PosixSignal>? only = null)
    {
        var signals = new StopSignals(onFirst, onSecond ?? (_ => { }));
        foreach (var signal in only ?? Handled)
        {
            try
            {
                signals._registrations.Add(PosixSignalRegistration.Create(signal, signals.Handle));
            }
            catch (PlatformNotSupportedException)
            {
                // Windows has no SIGHUP: Ctrl+C and SIGTERM are still handled.
            }
        }

        return signals;
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _received) > 1)
        {
            _onSecond(context.Signal);
            EndNow(ExitCodes.StoppedBy(context.Signal));
            return;
        }

        Received = context.Signal;
        _onFirst(context.Signal);
        new Thread(() =>
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The command ended meanwhile: nothing left to stop.
            }
        }) { IsBackground = true, Name = "heki-stop" }.Start();
    }

    /// <summary>Ends the process without running exit handlers (Akka's shutdown hook could wait on a broken journal).</summary>
    private static void EndNow(int status)
    {
        if (OperatingSystem.IsWindows())
            Environment.Exit(status);
        else
            _exit(status);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void _exit(int status);

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
        _stop.Dispose();
    }
}
