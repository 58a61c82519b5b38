using Akka.Actor;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Supervision;
using HekiActors.Cli.Input;
using HekiActors.Cli.Output;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Replay;
using System.Security.Cryptography;
using HekiActors.Simulation;

namespace HekiActors.Cli.Replay;

/// <summary>
/// Runs a replay script (replay-format.md) on a real <see cref="HekiHost"/>: one request per line, strictly in
/// order, each one's effects complete (its reply received) before the next line is read. Standard input, output
/// and error are parameters, so tests run it in-process.
/// </summary>
public sealed class ReplayRunner
{
    /// <summary>Every line was processed without an error.</summary>
    public const int ExitOk = 0;

    /// <summary>At least one line got <c>"error"</c>.</summary>
    public const int ExitLineErrors = 1;

    /// <summary>The input could not be read.</summary>
    public const int ExitUnreadable = 2;

    /// <summary>Stopped by its cancellation token (SIGINT in the command, which reports the signal that came).</summary>
    public const int ExitStopped = 130;

    /// <summary>The cluster of <c>--cluster</c> could not be joined (sysexits' EX_UNAVAILABLE); nothing was replayed.</summary>
    public const int ExitClusterUnavailable = 69;

    /// <summary>Against a cluster: how long a request waits for its answer before it is sent again (same request id).</summary>
    public static readonly TimeSpan ClusterReplyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Against a cluster: resends of a request before its line gets an error, 2 minutes in all: longer than a dead node
    /// takes to be noticed, downed and its VMs started on a survivor (docs/cluster.md).
    /// </summary>
    public const int ClusterResends = 24;

    /// <summary>The name that means standard input.</summary>
    public const string StandardInput = "-";

    private readonly HekiHost _host;
    private readonly HekiProfile _profile;
    private readonly bool _cluster;
    // Against a cluster: the VMs this run has touched; each is destroyed before its first line (the cluster's journal
    // outlives runs, and a replay starts from no VMs, as a local one does). Grows with the VMs, as the VMs themselves do.
    private readonly HashSet<string> _touched = new(StringComparer.Ordinal);
    // Each run's requests get ids of their own (the edge draws the nonce): nothing is answered from another run's record.
    private readonly ulong _runNonce = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    private ulong _requests;
    private readonly ReplayCapacity _capacity;

    private ReplayRunner(HekiHost host, HekiProfile profile, bool cluster, ReplayCapacity capacity)
    {
        _capacity = capacity;
        _host = host;
        _profile = profile;
        _cluster = cluster;
    }

    /// <summary>Replays <paramref name="source"/> (a file, or <c>-</c> for <paramref name="stdin"/>); returns the exit status.</summary>
    /// <param name="stdin">Standard input as bytes: lines are decoded one by one, strictly (<see cref="ReplayLineReader"/>).</param>
    /// <param name="clock">The warning rate limiters' clock; tests pass a frozen one so goldens never depend on timing.</param>
    /// <param name="cluster">Replay against the VMs of a running cluster (<c>--cluster</c>); null: VMs in this process.</param>
    public static async Task<int> RunAsync(string source, HekiProfile profile, Stream stdin, TextWriter stdout, TextWriter stderr,
        TimeProvider? clock = null, CancellationToken cancellationToken = default, ReplayCluster? cluster = null)
    {
        Stream input;
        if (source == StandardInput)
        {
            input = stdin;
        }
        else
        {
            // Before the actor system starts: an unreadable file costs nothing. Opening a FIFO waits for a writer, in a
            // call nothing can interrupt: it runs on a thread of its own, which a stop abandons.
            var opening = Task.Run(() => (File: InputFile.TryOpen(source, out var why), Problem: why));
            if (!opening.IsCompleted && cancellationToken.CanBeCanceled)
            {
                await Task.WhenAny(opening, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                if (!opening.IsCompleted)
                {
                    stderr.WriteLine("heki replay: stopped after line 0");
                    return ExitStopped;
                }
            }

            var (file, problem) = await opening.ConfigureAwait(false);
            if (file is null)
            {
                stderr.WriteLine($"heki replay: cannot read {(source.Length == 0 ? "''" : source)}: {problem}");
                return ExitUnreadable;
            }

            input = file;
        }

        try
        {
            return await RunAsync(input, profile, stdout, stderr, clock, cancellationToken, cluster).ConfigureAwait(false);
        }
        finally
        {
            if (!ReferenceEquals(input, stdin))
                input.Dispose();
        }
    }

    /// <summary>Replays every line of <paramref name="input"/> (UTF-8 bytes); returns the exit status.</summary>
    /// <param name="cluster">Replay against the VMs of a running cluster (<c>--cluster</c>); null: VMs in this process.</param>
    /// <param name="capacity">The VMs and vCPUs the run may hold at once; null: <see cref="ReplayCapacity"/>'s defaults.</param>
    public static async Task<int> RunAsync(Stream input, HekiProfile profile, TextWriter stdout, TextWriter stderr,
        TimeProvider? clock = null, CancellationToken cancellationToken = default, ReplayCluster? cluster = null, ReplayCapacity? capacity = null)
    {
        using var lines = new ReplayLineReader(input);
        // Kernel warnings are the only thing on stderr: Akka's own log would interleave with them. (Against a cluster they
        // are printed by the nodes hosting the VMs.)
        var warnings = new CheckedWarningSink(stderr);
        var options = new HekiHostOptions(
            Clock: clock, WarningSink: warnings, AkkaLogLevel: "OFF", SystemName: "heki-replay");
        if (cluster is not null)
        {
            options = ClusterClient.Options(options, cluster.Seed, cluster.NodesConfig);
            // At once: joining a seed where no node answers waits the whole timeout, and nothing else is printed meanwhile.
            stderr.WriteLine($"heki replay: joining the cluster at {cluster.Seed} (up to {ClusterClient.JoinTimeout.TotalSeconds:0} s)");
        }

        var host = await HekiHost.StartAsync(options).ConfigureAwait(false);
        await using (host.ConfigureAwait(false))
        {
            if (cluster is not null)
            {
                try
                {
                    await ClusterClient.WaitUntilUpAsync(host, cluster.Seed, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException e)
                {
                    stderr.WriteLine($"heki replay: {e.Message}");
                    return ExitClusterUnavailable;
                }
                catch (OperationCanceledException)
                {
                    stderr.WriteLine("heki replay: stopped before joining the cluster");
                    return ExitStopped;
                }
            }

            var runner = new ReplayRunner(host, profile, cluster is not null, capacity ?? new ReplayCapacity());
            var output = new ReplayOutput(stdout);
            var failed = false;
            long lineNumber = 0;
            string? unreadable = null;
            var stopped = false;
            // One task for the whole run: a new one per pending read would leave a registration on the token per line.
            var stop = Task.Delay(Timeout.Infinite, cancellationToken);
            try
            {
                while (true)
                {
                    ReplayInputLine? read;
                    try
                    {
                        var next = lines.ReadAsync(CancellationToken.None);
                        if (!next.IsCompleted && cancellationToken.CanBeCanceled)
                        {
                            // A read from a pipe or terminal cannot be interrupted: stop waiting for it instead.
                            var reading = next.AsTask();
                            await Task.WhenAny(reading, stop).ConfigureAwait(false);
                            next = reading.IsCompleted ? new ValueTask<ReplayInputLine?>(reading) : default;
                        }

                        if (cancellationToken.IsCancellationRequested)
                        {
                            stopped = true;
                            break;
                        }

                        read = await next.ConfigureAwait(false);
                    }
                    catch (IOException ex)
                    {
                        unreadable = $"heki replay: cannot read the input after line {lineNumber}: {ex.Message}";
                        break;
                    }

                    if (read is not { } line)
                        break;
                    lineNumber = line.Number;
                    if (!line.TooLong && ReplayParser.IsSkipped(line.Bytes.Span))
                        continue;
                    var parsed = line.TooLong ? ParsedLine.Bad(ReplayParser.TooLong(ReplayLineReader.MaxLineBytes)) : ReplayParser.Parse(line.Bytes);
                    var result = parsed.Request is { } request
                        ? await runner.ExecuteAsync(request).ConfigureAwait(false)
                        : new ErrorResult(parsed.Error!);
                    failed |= result.IsError;
                    output.Write(lineNumber, result);
                    if (warnings.Failure is { } lineWarningsFailed)
                        throw lineWarningsFailed;
                }
            }
            finally
            {
                // Every warning the replayed requests caused is printed before the run ends.
                await host.FlushWarnings().ConfigureAwait(false);
                stdout.Flush();
            }

            if (warnings.Failure is { } warningsFailed)
                throw warningsFailed;
            if (unreadable is not null)
            {
                stderr.WriteLine(unreadable);
                return ExitUnreadable;
            }

            if (stopped)
            {
                stderr.WriteLine($"heki replay: stopped after line {lineNumber}");
                return ExitStopped;
            }

            return failed ? ExitLineErrors : ExitOk;
        }
    }

    /// <summary>Sends one request to the model and waits for its reply; mutating requests get a fresh request id.</summary>
    private async Task<ReplayResult> ExecuteAsync(ReplayRequest request)
    {
        if (_capacity.Refusal(request) is { } refusal)
            return new ErrorResult(refusal);
        var result = await SendAsync(request).ConfigureAwait(false);
        _capacity.Record(request, result);
        return result;
    }

    private async Task<ReplayResult> SendAsync(ReplayRequest request)
    {
        if (_cluster && _touched.Add(request.Vm))
        {
            // Not a line of the script: its answer (destroyed, or no such VM) is not printed.
            if (await AskAsync(new DestroyVm(request.Vm, RequestIds.Derive(0xDE57, _runNonce, (ulong)_touched.Count))).ConfigureAwait(false) is null)
                return Unanswered();
        }

        var reply = await AskAsync(ReplayMessages.ToMessage(request, _profile, RequestIds.Derive(0, _runNonce, ++_requests))).ConfigureAwait(false);
        return reply is null ? Unanswered() : ReplayMessages.ResultOf(reply);
    }

    /// <summary>The reply, or null if none came: against a cluster the same message (same request id) is sent again, bounded.</summary>
    private async Task<object?> AskAsync(object message)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await _host.Ask(message, _cluster ? ClusterReplyTimeout : null).ConfigureAwait(false);
            }
            catch (AskTimeoutException) when (_cluster && attempt < ClusterResends)
            {
                // A node lost or handing its shards over: a change applied before is answered from the VM's record.
            }
            catch (AskTimeoutException)
            {
                return null;
            }
        }
    }

    private ErrorResult Unanswered() => new(_cluster
        ? $"the cluster did not answer within {(ClusterResends + 1) * ClusterReplyTimeout.TotalSeconds:0} s ({ClusterResends} resends)"
        : $"the model did not answer within {HekiHost.DefaultTimeout.TotalSeconds:0} s");
}

/// <summary>A running cluster to replay against (<c>heki replay --cluster SEED [--cluster-config FILE]</c>).</summary>
/// <param name="Seed">A node's address, <c>akka.tcp://heki@HOST:PORT</c>.</param>
/// <param name="NodesConfig">The nodes' settings file: the client runs with their split-brain resolver and failure detector; null: defaults.</param>
public sealed record ReplayCluster(string Seed, Akka.Configuration.Config? NodesConfig = null);
