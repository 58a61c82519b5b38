using System.Diagnostics;

namespace HekiActors.Cli.Tests.Limits;

/// <summary>Runs the built <c>heki</c> as a child process with a deadline: for hangs, crashes and exit codes, which an
/// in-process test cannot see (a stack overflow or an endless read would take the test host down with it).</summary>
internal static class HekiProcess
{
    /// <summary>Long enough for a loaded 2-core machine to start the runtime; a hang is caught, never waited out.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The managed-heap cap every child gets: a regression that grows memory without bound fails fast with an
    /// OutOfMemoryException instead of taking gigabytes of a shared machine. The memory estimate sees it as the
    /// memory available (the runtime reports this limit), which makes its refusals deterministic too.
    /// </summary>
    public const long HeapLimitBytes = 1L << 30;

    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>Runs <c>heki ARGS</c> in <paramref name="workingDirectory"/>; <paramref name="stdin"/> is written then closed.</summary>
    public static Result Run(string[] args, string? workingDirectory = null, byte[]? stdin = null, TimeSpan? timeout = null) =>
        Run(args, workingDirectory, stdin is null ? null : input => input.Write(stdin), timeout);

    /// <summary>Runs <c>heki ARGS</c>; <paramref name="writeStdin"/> writes its standard input (streamed: it may be huge), then it is closed.</summary>
    public static Result Run(string[] args, string? workingDirectory, Action<Stream>? writeStdin, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "heki.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_GCHeapHardLimit"] = "0x" + HeapLimitBytes.ToString("X");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            writeStdin?.Invoke(process.StandardInput.BaseStream);

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child exited before reading all of its input: its exit code and output tell the rest.
        }

        if (!process.WaitForExit(timeout ?? DefaultTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"heki {string.Join(' ', args)} did not end within {(timeout ?? DefaultTimeout).TotalSeconds:0} s; stderr: {Tail(error)}");
        }

        return new Result(process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    /// <summary>The dotnet host running the tests (the SDK sets DOTNET_HOST_PATH), or "dotnet" from PATH.</summary>
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static string Tail(Task<string> error) => error.IsCompleted ? error.Result[^Math.Min(error.Result.Length, 2000)..] : "(still open)";
}
