using System.Diagnostics;
using System.Reflection;

namespace HekiActors.Cli.Chaos;

/// <summary>Starts this same build of heki as a child process (<c>dotnet heki.dll ...</c> or the apphost <c>heki ...</c>).</summary>
internal static class HekiChildProcess
{
    /// <param name="arguments">The command and its options (<c>chaos ...</c>, <c>node ...</c>).</param>
    /// <param name="environment">Variables added to this process's environment.</param>
    /// <param name="redirect">Standard input, output and error as pipes to this process (else inherited).</param>
    public static Process Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, bool redirect)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the process has no path");
        var info = new ProcessStartInfo(host)
        {
            UseShellExecute = false,
            RedirectStandardInput = redirect,
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
        };
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        return Process.Start(info) ?? throw new InvalidOperationException($"heki {info.ArgumentList.FirstOrDefault()} did not start");
    }
}
