using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace HekiActors.Cli.Tests.Process;

/// <summary>
/// Runs the built <c>heki</c> (<c>dotnet heki.dll</c>, copied beside the tests) as a child process, with a timeout that
/// kills it and fails the test: what these tests check (hangs, signals, exit statuses, broken pipes) only exists for a
/// real process.
/// </summary>
internal sealed class HekiProcess : IDisposable
{
    /// <summary>Longest any run may take before it counts as hung (generous: the machine is shared and busy).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();

    private HekiProcess(System.Diagnostics.Process process)
    {
        _process = process;
    }

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

    /// <summary>Starts <c>dotnet heki.dll ARGS</c> in <paramref name="workingDirectory"/>; standard output and error are collected.</summary>
    public static HekiProcess Start(string workingDirectory, params string[] args) =>
        StartProgram("dotnet", workingDirectory, [HekiDll, .. args]);

    /// <summary>Starts <c>bash -c SCRIPT</c>, where <c>$HEKI</c> runs heki (for pipes and redirections a test cannot make otherwise).</summary>
    public static HekiProcess Shell(string workingDirectory, string script) =>
        StartProgram("bash", workingDirectory, ["-c", script], ("HEKI", $"dotnet {HekiDll}"));

    /// <summary>Starts heki as the unprivileged user nobody (a read-only directory does not stop root).</summary>
    public static HekiProcess StartAsNobody(string workingDirectory, params string[] args) =>
        geteuid() == 0
            ? StartProgram("setpriv", workingDirectory, ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", HekiDll, .. args])
            : Start(workingDirectory, args);

    private static HekiProcess StartProgram(string program, string workingDirectory, string[] args, params (string Name, string Value)[] environment)
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
        var process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var heki = new HekiProcess(process);
        process.OutputDataReceived += (_, e) => heki.Append(heki._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => heki.Append(heki._stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return heki;
    }

    /// <summary>Runs heki to its end with no input and returns its exit status and output.</summary>
    public static (int Status, string Stdout, string Stderr) Run(string workingDirectory, params string[] args)
    {
        using var heki = Start(workingDirectory, args);
        heki.StandardInput.Close();
        var status = heki.WaitForExit();
        return (status, heki.Stdout, heki.Stderr);
    }

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

    /// <summary>Waits for the exit status; a process still running after <paramref name="timeout"/> is killed and the test fails.</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        if (!_process.WaitForExit(timeout ?? Timeout))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            Assert.Fail($"heki did not end within {(timeout ?? Timeout).TotalSeconds:0} s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        _process.WaitForExit(); // the output handlers have seen everything
        return _process.ExitCode;
    }

    /// <summary>Waits until standard error (or output) holds <paramref name="text"/>; fails if the process ends or time runs out first.</summary>
    public void WaitForOutput(string text, bool onStderr = true)
    {
        var deadline = Stopwatch.StartNew();
        lock (_gate)
        {
            while (!(onStderr ? _stderr : _stdout).ToString().Contains(text, StringComparison.Ordinal))
            {
                var left = Timeout - deadline.Elapsed;
                if (_process.HasExited || left <= TimeSpan.Zero)
                    Assert.Fail($"heki never wrote \"{text}\".\nstdout:\n{_stdout}\nstderr:\n{_stderr}");
                // Woken by every line; the bound only covers a process that ended without a last line.
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Min(left.TotalMilliseconds, 500)));
            }
        }
    }

    /// <summary>Sends a real signal with kill(2).</summary>
    public void Signal(PosixSignal signal)
    {
        var number = signal switch
        {
            PosixSignal.SIGHUP => 1,
            PosixSignal.SIGINT => 2,
            PosixSignal.SIGTERM => 15,
            _ => throw new ArgumentOutOfRangeException(nameof(signal)),
        };
        Assert.Equal(0, kill(_process.Id, number));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc")]
    private static extern uint geteuid();
}

/// <summary>Process-level tests run one at a time: each starts a .NET process, and a simulation uses both cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "heki processes";
}
