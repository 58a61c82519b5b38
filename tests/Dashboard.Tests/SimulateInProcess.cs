using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using HekiActors.Cli;

namespace HekiActors.Dashboard.Tests;

/// <summary>Runs <c>heki simulate</c> in this process on a thread of its own, with its output captured as it is written.</summary>
internal sealed partial class SimulateInProcess
{
    private readonly StringBuilder _error = new();
    private readonly StringBuilder _output = new();

    private SimulateInProcess(string[] args)
    {
        var error = TextWriter.Synchronized(new StringWriter(_error));
        var output = TextWriter.Synchronized(new StringWriter(_output));
        Exit = Task.Run(() => Program.BuildRoot().Parse(["simulate", .. args])
            .Invoke(new InvocationConfiguration { Output = output, Error = error }));
    }

    public Task<int> Exit { get; }

    public string Error
    {
        get
        {
            lock (_error)
                return _error.ToString();
        }
    }

    public static SimulateInProcess Start(params string[] args) => new(args);

    /// <summary>The live page's address, once the command has printed it.</summary>
    public async Task<Uri> DashboardUrlAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Url().Match(Error) is { Success: true } match)
                return new Uri(match.Groups[1].Value);
            if (Exit.IsCompleted)
                throw new InvalidOperationException($"heki simulate exited {Exit.Result} before serving a page: {Error}");
            await Task.Delay(50);
        }

        throw new TimeoutException($"no dashboard URL within {timeout}: {Error}");
    }

    [GeneratedRegex(@"dashboard: live page at (http://127\.0\.0\.1:\d+/)")]
    private static partial Regex Url();
}
