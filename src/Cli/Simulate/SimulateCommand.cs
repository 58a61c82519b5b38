using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using HekiActors.Cli.Output;
using HekiActors.Simulation;
using System.Security.Cryptography;

namespace HekiActors.Cli.Simulate;

/// <summary>The <c>heki simulate [SCENARIO] [options]</c> command: many VMs, their kernels, workloads and attackers.</summary>
/// <remarks>
/// With no arguments it runs the built-in default scenario; a scenario file (YAML or JSON) replaces the defaults it
/// names and options replace both. Every usage error, from System.CommandLine or from our own checks, exits 2 before
/// the engine is created.
/// </remarks>
public static class SimulateCommand
{
    /// <summary>The engine the command runs in production; the one line to adjust if the engine's type moves.</summary>
    /// <summary>The real engine, with a fresh run nonce: a rerun on a durable journal gets request ids of its own.</summary>
    public static ISimulationEngine CreateEngine() => CreateEngine(clusterSeed: null, clusterConfig: null);

    /// <summary>The real engine; with <paramref name="clusterSeed"/>, a client of the cluster at that seed node whose nodes run with <paramref name="clusterConfig"/>.</summary>
    public static ISimulationEngine CreateEngine(string? clusterSeed, Akka.Configuration.Config? clusterConfig) =>
        new SimulationEngine(new SimulationEngineOptions(RunNonce: BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)), ClusterSeed: clusterSeed,
            ClusterConfig: clusterConfig));

    /// <param name="engineFactory">Makes the engine (tests pass a fake); null for <see cref="CreateEngine"/>.</param>
    public static Command Build(Func<ISimulationEngine>? engineFactory = null)
    {
        var options = new SimulateOptions();
        var command = new Command("simulate",
            "Simulate many VMs: guest kernels protect their memory through Heki, run workloads and are attacked; prints a report.");
        options.AddTo(command);
        command.Action = new SimulateAction(options, engineFactory);
        return command;
    }

    /// <summary>Runs the command; a synchronous action that sees parse errors itself so it can exit 2 for them.</summary>
    private sealed class SimulateAction(SimulateOptions options, Func<ISimulationEngine>? givenEngineFactory) : SynchronousCommandLineAction
    {
        // System.CommandLine's own error action exits 1; taking the errors over lets every usage error exit 2.
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            SimulationRunner.Request request;
            try
            {
                request = options.Read(parse) with { Width = ProgressDisplay.TerminalWidth() };
            }
            catch (UsageException e)
            {
                error.WriteLine($"heki simulate: {e.Message}");
                if (e.HelpHint)
                    error.WriteLine("Try 'heki simulate --help' for the options and scenarios/README.md for scenario files.");
                return UsageException.ExitCode;
            }

            // Progress redraws a line only on a real terminal; captured writers (tests) and redirected stderr get plain lines.
            var standardStreams = ReferenceEquals(error, StandardStreams.Error);
            var live = standardStreams && ProgressDisplay.StandardErrorIsTerminal;
            request = request with { LiveProgress = live && request.LiveProgress };

            // The first SIGINT, SIGTERM or SIGHUP stops the run and still prints what was counted; a second one ends the process.
            using var signals = StopSignals.Register(signal =>
            {
                try
                {
                    // On a terminal the status line is still open: end it so the notice gets a line of its own.
                    error.WriteLine((request.LiveProgress ? error.NewLine : "") +
                        $"heki simulate: {SignalName(signal)}: stopping, then reporting what ran ({SignalName(signal)} again to quit at once)...");
                }
                catch (OutputFailedException)
                {
                    // Standard error is gone; stopping matters more.
                }
            });
            try
            {
                var engineFactory = givenEngineFactory ?? (() => CreateEngine(request.ClusterSeed, request.ClusterConfig));
                var status = new SimulationRunner(engineFactory, output, error).RunAsync(request, signals.Token, standardStreams).GetAwaiter().GetResult();
                return status == SimulationRunner.InterruptedExitCode && signals.Received is { } signal ? ExitCodes.StoppedBy(signal) : status;
            }
            catch (UsageException e)
            {
                error.WriteLine($"heki simulate: {e.Message}");
                return UsageException.ExitCode;
            }
            catch (JournalInUseException e)
            {
                error.WriteLine($"heki simulate: {e.Message}");
                return ExitCodes.JournalInUse;
            }
        }

        private static string SignalName(PosixSignal signal) => signal == PosixSignal.SIGINT ? "Ctrl+C" : signal.ToString();
    }
}
