using System.Globalization;
using HekiActors.Cli.Output;
using HekiActors.Observability;
using HekiActors.Simulation;

namespace HekiActors.Cli.Simulate;

/// <summary>Shows a running simulation's progress on standard error: a live status line on a terminal, plain lines otherwise.</summary>
/// <remarks>
/// Live mode rewrites one line with <c>\r</c> (at most ten times a second) so a terminal shows a moving bar; when
/// standard error is redirected (a log file, CI) carriage returns would only garble the file, so it writes one plain
/// line about every two seconds of simulated time and at each phase change. The engine reports from its own threads.
/// </remarks>
public sealed class ProgressDisplay : IProgress<SimulationProgress>
{
    private const int BarWidth = 20;
    private static readonly TimeSpan LiveInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly TextWriter _writer;
    private readonly bool _live;
    private readonly string _prefix;
    private readonly int _width;
    private readonly Func<bool>? _stopped;
    private SimulationProgress? _last;
    private double _runningFraction;
    private SimulationProgress? _shown;
    private TimeSpan _shownAt;
    private int _liveLength;
    private double _rate;
    private OutputFailedException? _failure;

    /// <param name="writer">Where progress goes (standard error in the command).</param>
    /// <param name="live">True on a terminal: one status line rewritten in place.</param>
    /// <param name="label">Prefix naming the run (the profile when both run), or null.</param>
    /// <param name="width">Terminal width; live lines are cut to it so they never wrap.</param>
    /// <param name="stopped">Whether the run was told to stop (a signal, a failed output): its last line then says
    /// <see cref="SimulationProgress.StoppedPhase"/> with the fraction it reached, not "done 100%".</param>
    public ProgressDisplay(TextWriter writer, bool live, string? label = null, int width = 120, Func<bool>? stopped = null)
    {
        _writer = writer;
        _stopped = stopped;
        _live = live;
        // Padded to the longest profile name so the two runs' lines align when both profiles run.
        _prefix = label is null ? "" : ("[" + label + "]").PadRight(10) + " ";
        _width = Math.Max(40, width);
    }

    /// <summary>Set when writing failed (standard error closed or full): progress is no longer shown, and the command says so by its exit status.</summary>
    public OutputFailedException? Failure
    {
        get
        {
            lock (_gate)
            {
                return _failure;
            }
        }
    }

    /// <summary>True when standard error is a terminal, so a live status line can be drawn there.</summary>
    public static bool StandardErrorIsTerminal => !Console.IsErrorRedirected;

    /// <summary>The terminal's width, or a default when there is none to ask.</summary>
    public static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 120;
        }
        catch (IOException)
        {
            return 120;
        }
    }

    public void Report(SimulationProgress value)
    {
        lock (_gate)
        {
            // The engine's last snapshot is "done" at 100% however the run ended: a stopped one shows how far it got.
            if (value.Phase != SimulationProgress.DonePhase)
                _runningFraction = value.Fraction;
            else if (_stopped?.Invoke() == true)
                value = value with { Phase = SimulationProgress.StoppedPhase, Fraction = _runningFraction };

            if (_last is { } previous && value.Elapsed > previous.Elapsed && value.Accesses >= previous.Accesses)
            {
                // Rate over the last interval, smoothed so the figure does not flicker between reports.
                var instant = (value.Accesses - previous.Accesses) / (value.Elapsed - previous.Elapsed).TotalSeconds;
                _rate = _rate == 0 ? instant : 0.7 * _rate + 0.3 * instant;
            }

            _last = value;
            var due = _shown is null || value.Elapsed - _shownAt >= (_live ? LiveInterval : PlainInterval);
            if (due || _shown!.Phase != value.Phase)
            {
                Guarded(() => Show(value));
            }
        }
    }

    /// <summary>Shows the last state (if not yet shown) and ends the live line so the report starts on a fresh one.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            Guarded(() =>
            {
                if (_last is { } last && !ReferenceEquals(last, _shown))
                {
                    Show(last);
                }

                if (_live && _liveLength > 0)
                {
                    _writer.WriteLine();
                    _liveLength = 0;
                }

                _writer.Flush();
            });
        }
    }

    /// <summary>Writes unless writing has failed; a failure is kept, never thrown into the engine that reports progress.</summary>
    private void Guarded(Action write)
    {
        if (_failure is not null)
        {
            return;
        }

        try
        {
            write();
        }
        catch (OutputFailedException e)
        {
            _failure = e;
        }
    }

    /// <summary>The status text for one snapshot (without prefix or padding).</summary>
    public static string Format(SimulationProgress p, double accessesPerSecond)
    {
        var fraction = Math.Clamp(double.IsFinite(p.Fraction) ? p.Fraction : 0, 0, 1);
        var filled = (int)Math.Round(fraction * BarWidth);
        var bar = new string('#', filled) + new string('.', BarWidth - filled);
        var inv = CultureInfo.InvariantCulture;
        // The words are the vocabulary's (HekiVocabulary): the same names and meanings as the report and the metrics.
        return string.Create(inv,
            // Most telling figures first: a narrow terminal cuts the line's tail.
            $"{p.Phase,-8} [{bar}] {fraction * 100,3:0}%  {ReportFormat.Seconds(p.Elapsed)}  VMs {p.VmsBooted:N0}/{p.VmsTotal:N0}  " +
            $"{HekiVocabulary.Accesses.Label} {ReportFormat.Rate(p.Accesses)} ({ReportFormat.Rate(accessesPerSecond)}/s)  " +
            $"{HekiVocabulary.Violations.Label} {p.Violations:N0}  " +
            $"{HekiVocabulary.AttacksBlocked.Label} {p.AttacksBlocked:N0}  {HekiVocabulary.AttacksSucceeded.Label} {p.AttacksSucceeded:N0}");
    }

    private void Show(SimulationProgress value)
    {
        // The last snapshot carries the report's rate: the final line ends on the report's figures.
        var rate = value.AccessesPerSecond is { } final ? final : _rate > 0 ? _rate : value.Elapsed > TimeSpan.Zero ? value.Accesses / value.Elapsed.TotalSeconds : 0;
        var text = _prefix + Format(value, rate);
        if (_live)
        {
            if (text.Length > _width - 1)
            {
                text = text[..(_width - 1)];
            }

            // Pad over the previous line's tail: a shorter line would otherwise leave stale characters behind.
            _writer.Write("\r" + text.PadRight(_liveLength));
            _liveLength = text.Length;
        }
        else
        {
            _writer.WriteLine(text);
        }

        _writer.Flush();
        _shown = value;
        _shownAt = value.Elapsed;
    }
}
