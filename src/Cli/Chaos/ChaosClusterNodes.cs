using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HekiActors.Cli.Node;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Chaos;

/// <summary>
/// The <c>heki node</c> processes of <c>heki chaos --cluster-nodes N</c>: N nodes on 127.0.0.1, each on a free port,
/// every node listing all N as seeds (so a restarted first seed joins the others instead of starting a cluster of its
/// own), one shared PostgreSQL journal. Each child's standard input is a pipe from this process: when this process ends,
/// however it ends (SIGKILL too), the pipe closes and the node leaves and exits (<see cref="NodeCommand.StopOnEndOfInput"/>).
/// Disposing stops every node (SIGTERM, then SIGKILL after <see cref="StopBound"/>).
/// </summary>
internal sealed class ChaosClusterNodes : IClusterNodes, IDisposable
{
    /// <summary>How long a node may take to start and be a member (the runtime's start on a loaded machine, the join).</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(90);

    /// <summary>How long the nodes may take to leave at the end before they are killed.</summary>
    public static readonly TimeSpan StopBound = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The nodes' Akka settings (and the client's: it may be the leader, whose split-brain resolver decides). A node whose
    /// heartbeats stop for 10 s is unreachable (a loaded machine holds healthy ones for seconds; a paused node,
    /// <see cref="NodeFaultPlan.MaxPause"/>, stays under it), and is downed 5 s after the view settles.
    /// </summary>
    public const string AkkaSettings = """
        akka.cluster.split-brain-resolver.stable-after = 5s
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 10s
        """;

    private readonly string _folder;
    private readonly string _journalConnection;
    private readonly int[] _ports;
    private readonly Node?[] _nodes;

    private ChaosClusterNodes(string folder, string journalConnection, int[] ports)
    {
        _folder = folder;
        _journalConnection = journalConnection;
        _ports = ports;
        _nodes = new Node?[ports.Length];
    }

    public int Count => _ports.Length;

    public IReadOnlyList<string> Seeds => [.. Enumerable.Range(0, Count).Select(Address)];

    public string Address(int node) => $"akka.tcp://{NodeSettings.SystemName}@127.0.0.1:{_ports[node]}";

    /// <summary>Starts <paramref name="count"/> nodes and waits until each is a member (bounded); on failure none is left running.</summary>
    /// <exception cref="TimeoutException">A node did not come up within <see cref="StartBound"/> (its last output in the message).</exception>
    public static async Task<ChaosClusterNodes> StartAsync(int count, string journalConnection, TextWriter narrate, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("heki-chaos-nodes-").FullName;
        var ports = FreePorts(count);
        var cluster = new ChaosClusterNodes(folder, journalConnection, ports);
        try
        {
            File.WriteAllText(cluster.ConfigPath, $"heki.node {{ shards = {10 * count} }}\n" + AkkaSettings);
            for (var i = 0; i < count; i++)
                cluster._nodes[i] = cluster.Launch(i);
            for (var i = 0; i < count; i++)
            {
                await cluster._nodes[i]!.UpAsync(cancellationToken).ConfigureAwait(false);
                narrate.WriteLine($"heki chaos: node {i + 1} up at {cluster.Address(i)} ({cluster.Describe(i)})");
            }

            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public void Kill(int node) => _nodes[node]?.Kill();

    public string Describe(int node) => _nodes[node] is { } running ? $"pid {running.Id}" : "not running";

    public async Task RestartAsync(int node, CancellationToken cancellationToken)
    {
        _nodes[node]?.Kill();
        _nodes[node]?.Dispose();
        _nodes[node] = Launch(node);
        await _nodes[node]!.UpAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Pause(int node) => _nodes[node]?.Signal(Mono.Unix.Native.Signum.SIGSTOP);

    public void Resume(int node) => _nodes[node]?.Signal(Mono.Unix.Native.Signum.SIGCONT);

    public bool Exited(int node, out string lastWords)
    {
        lastWords = "";
        if (_nodes[node] is not { } running || !running.ExitedOnItsOwn)
            return false;
        lastWords = running.LastWords();
        return true;
    }

    /// <summary>Kills every node at once (a second signal to this process: no waiting).</summary>
    public void KillAll()
    {
        foreach (var node in _nodes)
            node?.Kill();
    }

    public void Dispose()
    {
        var running = _nodes.Where(n => n is not null).Select(n => n!).ToList();
        foreach (var node in running)
        {
            node.Signal(Mono.Unix.Native.Signum.SIGCONT);
            node.Signal(Mono.Unix.Native.Signum.SIGTERM);
        }

        var deadline = DateTime.UtcNow + StopBound;
        foreach (var node in running)
        {
            node.WaitForExit(deadline - DateTime.UtcNow);
            node.Kill();
            node.Dispose();
        }

        Array.Clear(_nodes);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
    }

    private string ConfigPath => Path.Combine(_folder, "node.conf");

    private Node Launch(int node)
    {
        List<string> arguments = ["node", "--config", ConfigPath, "--host", "127.0.0.1", "--port", $"{_ports[node]}", "--journal-connection", _journalConnection];
        foreach (var seed in Seeds)
            arguments.AddRange(["--seed", seed]);
        return new Node(HekiChildProcess.Start(arguments, new Dictionary<string, string> { [NodeCommand.StopOnEndOfInput] = "1" }, redirect: true));
    }

    private static int[] FreePorts(int count)
    {
        // All held at once, so no two are the same; freed just before the nodes bind them.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    /// <summary>One node process: its output kept to its last lines (and drained, so it never blocks on a full pipe).</summary>
    private sealed class Node : IDisposable
    {
        private const int KeptLines = 30;
        private readonly Process _process;
        private readonly Queue<string> _lines = new();
        private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _killed;

        public Node(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => Heard(e.Data);
            _process.ErrorDataReceived += (_, e) => Heard(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public bool ExitedOnItsOwn => !_killed && _process.HasExited;

        public int Id => _process.Id;

        public async Task UpAsync(CancellationToken cancellationToken)
        {
            var exited = _process.WaitForExitAsync(cancellationToken);
            var finished = await Task.WhenAny(_up.Task, exited, Task.Delay(StartBound, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (finished == _up.Task)
                return;
            throw new TimeoutException(finished == exited
                ? $"a heki node exited while starting (status {_process.ExitCode}): {LastWords()}"
                : $"a heki node was not up within {StartBound.TotalSeconds:0} s: {LastWords()}");
        }

        public string LastWords()
        {
            lock (_lines)
                return string.Join(" | ", _lines.TakeLast(5));
        }

        public void Signal(Mono.Unix.Native.Signum signal)
        {
            try
            {
                if (!_process.HasExited)
                    _ = Mono.Unix.Native.Syscall.kill(_process.Id, signal);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        public void Kill()
        {
            _killed = true;
            try
            {
                _process.Kill(entireProcessTree: false); // SIGKILL
                _process.WaitForExit(5_000);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }

        public void WaitForExit(TimeSpan bound)
        {
            if (bound > TimeSpan.Zero)
                _process.WaitForExit(bound);
        }

        public void Dispose() => _process.Dispose();

        private void Heard(string? line)
        {
            if (line is null)
                return;
            if (line.StartsWith("heki node: up at", StringComparison.Ordinal))
                _up.TrySetResult();
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > KeptLines)
                    _lines.Dequeue();
            }
        }
    }
}
