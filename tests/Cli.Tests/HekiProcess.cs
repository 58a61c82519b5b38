using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Runs the built <c>heki</c> (<c>dotnet heki.dll</c>, copied beside the tests) as a child process with a deadline that
/// kills it and fails the test: hangs, crashes, signals, exit statuses and broken pipes only exist for a real process
/// (a stack overflow or an endless read would take the test host down with it).
/// </summary>
internal sealed class HekiProcess : IDisposable
{
    /// <summary>Long enough for a loaded 2-core machine to start the runtime; a hang is caught, never waited out.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The managed-heap cap every child gets: a regression that grows memory without bound fails fast with an
    /// OutOfMemoryException instead of taking gigabytes of a shared machine. The memory estimate sees it as the
    /// memory available (the runtime reports this limit), which makes its refusals deterministic too.
    /// </summary>
    public const long HeapLimitBytes = 1L << 30;

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();

    private HekiProcess(Process process)
    {
        _process = process;
    }

    public sealed record Result(int ExitCode, string Output, string Error);

    public static string HekiDll { get; } = Path.Combine(AppContext.BaseDirectory, "heki.dll");

    public int Id => _process.Id;

    public StreamWriter StandardInput => _process.StandardInput;

    public string Stdout
    {
        get
        {
            lock (_gate)
                return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate)
                return _stderr.ToString();
        }
    }

    /// <summary>Runs <c>heki ARGS</c> in <paramref name="workingDirectory"/>; <paramref name="stdin"/> is written then closed.</summary>
    public static Result Run(string[] args, string? workingDirectory = null, byte[]? stdin = null, TimeSpan? timeout = null) =>
        Run(args, workingDirectory, stdin is null ? null : input => input.Write(stdin), timeout);

    /// <summary>Runs <c>heki ARGS</c>; <paramref name="writeStdin"/> writes its standard input (streamed: it may be huge), then it is closed.</summary>
    public static Result Run(string[] args, string? workingDirectory, Action<Stream>? writeStdin, TimeSpan? timeout = null)
    {
        using var heki = Start(workingDirectory ?? AppContext.BaseDirectory, args);
        try
        {
            writeStdin?.Invoke(heki.StandardInput.BaseStream);
            heki.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child exited before reading all of its input: its exit code and output tell the rest.
        }

        var status = heki.WaitForExit(timeout);
        return new Result(status, heki.Stdout, heki.Stderr);
    }

    /// <summary>Starts <c>dotnet heki.dll ARGS</c> in <paramref name="workingDirectory"/>; standard output and error are collected.</summary>
    public static HekiProcess Start(string workingDirectory, params string[] args) =>
        StartProgram(DotnetHost(), workingDirectory, [HekiDll, .. args]);

    /// <summary>
    /// Starts <c>dotnet heki.dll ARGS</c> with the runtime's own heap limit, for a full-size run whose figures must be
    /// the ones a user gets (a capped heap collects far more often and stretches every latency).
    /// </summary>
    public static HekiProcess StartFullSize(string workingDirectory, params string[] args) =>
        StartProgram(DotnetHost(), workingDirectory, [HekiDll, .. args], heapLimit: false);

    /// <summary>Starts <c>bash -c SCRIPT</c>, where <c>$HEKI</c> runs heki (for pipes and redirections a test cannot make otherwise).</summary>
    public static HekiProcess Shell(string workingDirectory, string script) =>
        StartProgram("bash", workingDirectory, ["-c", script], ("HEKI", $"{DotnetHost()} {HekiDll}"));

    /// <summary>Starts heki as the unprivileged user nobody (a read-only directory does not stop root).</summary>
    public static HekiProcess StartAsNobody(string workingDirectory, params string[] args) =>
        geteuid() == 0
            ? StartProgram("setpriv", workingDirectory, ["--reuid=65534", "--regid=65534", "--clear-groups", DotnetHost(), HekiDll, .. args])
            : Start(workingDirectory, args);

    private static HekiProcess StartProgram(string program, string workingDirectory, string[] args, params (string Name, string Value)[] environment) =>
        StartProgram(program, workingDirectory, args, heapLimit: true, environment);

    private static HekiProcess StartProgram(string program, string workingDirectory, string[] args, bool heapLimit, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (heapLimit)
            info.Environment["DOTNET_GCHeapHardLimit"] = "0x" + HeapLimitBytes.ToString("X");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var heki = new HekiProcess(process);
        process.OutputDataReceived += (_, e) => heki.Append(heki._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => heki.Append(heki._stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return heki;
    }

    /// <summary>The dotnet host running the tests (the SDK sets DOTNET_HOST_PATH), or "dotnet" from PATH.</summary>
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private void Append(StringBuilder to, string? line)
    {
        lock (_gate)
        {
            // null: the stream ended; wake waiters either way so they can see it.
            if (line is not null)
                to.Append(line).Append('\n');
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits for the exit status; a process still running after the timeout is killed and the test fails.</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        if (!_process.WaitForExit(timeout ?? DefaultTimeout))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            Assert.Fail($"heki did not end within {(timeout ?? DefaultTimeout).TotalSeconds:0} s.\nstdout:\n{Tail(Stdout)}\nstderr:\n{Tail(Stderr)}");
        }

        _process.WaitForExit(); // the output handlers have seen everything
        return _process.ExitCode;
    }

    /// <summary>Waits until standard error (or output) holds <paramref name="text"/>; fails if the process ends or time runs out first.</summary>
    public void WaitForOutput(string text, bool onStderr = true)
    {
        var clock = Stopwatch.StartNew();
        lock (_gate)
        {
            while (!(onStderr ? _stderr : _stdout).ToString().Contains(text, StringComparison.Ordinal))
            {
                var left = DefaultTimeout - clock.Elapsed;
                if (_process.HasExited || left <= TimeSpan.Zero)
                    Assert.Fail($"heki never wrote \"{text}\".\nstdout:\n{Tail(_stdout.ToString())}\nstderr:\n{Tail(_stderr.ToString())}");
                // Woken by every line; the bound only covers a process that ended without a last line.
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Min(left.TotalMilliseconds, 500)));
            }
        }
    }

    /// <summary>Ends the process with SIGKILL (what .NET's Kill sends on Linux): no handler, no shutdown, no flush.</summary>
    public void KillWithSigkill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    /// <summary>Sends a real signal with kill(2).</summary>
    public void Signal(PosixSignal signal) => Assert.Equal(0, kill(_process.Id, ExitCodes.SignalNumber(signal)));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static string Tail(string text) => text[^Math.Min(text.Length, 2000)..];

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc")]
    private static extern uint geteuid();
}

/// <summary>Process-level tests that run heavy children run one at a time: a simulation uses both cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "heki processes";
}
