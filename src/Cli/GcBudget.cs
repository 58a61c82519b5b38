using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace HekiActors.Cli;

/// <summary>
/// Starts heki with a gen0 allocation budget of <see cref="Mebibytes"/> MiB instead of the runtime's (about 16–30 MiB
/// here), unless its command line asks for more than <see cref="MaxVms"/> VMs: heki simulate's default run (300 VMs)
/// then has no collection after its boot, so no gen0 pause falls inside a burst of hypercalls, while a larger run keeps
/// the runtime's budget, whose shorter pauses a 10,000-VM run needs (docs/benchmarks.md, "GC budget (fifth pass)";
/// docs/reliability.md, "The GC budget heki starts with").
/// </summary>
/// <remarks>
/// The runtime reads this knob (<c>GCgen0size</c>) only from the environment: it has no runtimeconfig.json name and no
/// API, and the GC reads it once, before any managed code runs. So when neither <c>DOTNET_GCgen0size</c> nor
/// <c>COMPlus_GCgen0size</c> is set and <see cref="OptOutVariable"/> does not opt out, heki replaces itself with
/// execve(2): the same executable (by the resolved path of <c>/proc/self/exe</c>), the same arguments
/// (<c>/proc/self/cmdline</c>) and the same environment (<c>/proc/self/environ</c>) plus <c>DOTNET_GCgen0size</c>. The
/// process id, open standard streams, working directory, signal mask and parent stay the same, so a journal lock, a
/// signal sent to the pid or a parent waiting on it see one process. Only a program's own entry point does this
/// (never a host that calls <see cref="Program.Main"/> in-process, such as the tests), only on Linux, and if execve
/// fails the program simply runs with the runtime's default. The benchmarks' simulation harness starts the same way,
/// so its figures are the ones heki gives.
/// </remarks>
public static class GcBudget
{
    /// <summary>The gen0 budget, in MiB (1 MiB = 2^20 bytes).</summary>
    public const int Mebibytes = 128;

    /// <summary>The most VMs a run may ask for (<c>--vms N</c>) and still get the budget.</summary>
    public const int MaxVms = 1_000;

    /// <summary>The runtime's variable (hexadecimal bytes); when set, by the user or by heki's own restart, it is left as it is.</summary>
    public const string RuntimeVariable = "DOTNET_GCgen0size";

    /// <summary>The older spelling the runtime also reads.</summary>
    public const string LegacyRuntimeVariable = "COMPlus_GCgen0size";

    /// <summary><c>HEKI_GC_BUDGET=off</c> (or <c>0</c>, <c>false</c>, <c>no</c>, any case): start with the runtime's own GC settings (no restart); <c>on</c>, <c>1</c>, <c>true</c>, <c>yes</c> or unset: the default.</summary>
    public const string OptOutVariable = "HEKI_GC_BUDGET";

    /// <summary>The values of <see cref="OptOutVariable"/> that opt out, compared without case.</summary>
    public static readonly IReadOnlyList<string> OptOutValues = ["off", "0", "false", "no"];

    /// <summary>The values of <see cref="OptOutVariable"/> that keep the default, compared without case.</summary>
    public static readonly IReadOnlyList<string> OptInValues = ["on", "1", "true", "yes"];

    /// <summary>
    /// Set by heki's own restart beside <see cref="RuntimeVariable"/>: the restarted process then removes both from the
    /// environment its children get, so a <c>heki node</c> that <c>heki chaos --cluster-nodes</c> starts keeps the
    /// runtime's budget as every <c>heki node</c> does (and any other child decides from its own command line).
    /// </summary>
    internal const string RestartedVariable = "HEKI_GC_BUDGET_RESTARTED";

    /// <summary>The gen0 budget this process runs with, in bytes: heki's, or the user's <see cref="RuntimeVariable"/>; 0 for the runtime's own (counted by the memory estimate).</summary>
    public static long InEffectBytes { get; private set; }

    /// <summary>
    /// Why the environment's GC settings cannot be taken (one line), or null: a <see cref="OptOutVariable"/> value that is
    /// neither an opt-out nor the default, or a <see cref="RuntimeVariable"/> (<see cref="LegacyRuntimeVariable"/>) the
    /// runtime would ignore without a word (not hexadecimal bytes, or zero), so the run would not have the budget it asks for.
    /// </summary>
    public static string? EnvironmentProblem(Func<string, string?> environment)
    {
        if (environment(OptOutVariable) is { Length: > 0 } optOut && !IsOneOf(optOut, OptOutValues) && !IsOneOf(optOut, OptInValues))
        {
            return $"{OptOutVariable} must be {string.Join(", ", OptOutValues)} (start with the runtime's GC budget) or "
                   + $"{string.Join(", ", OptInValues)} (heki's), got '{Input.HoconFile.Excerpt(optOut, 40)}'";
        }

        foreach (var name in (string[])[RuntimeVariable, LegacyRuntimeVariable])
        {
            if (environment(name) is { Length: > 0 } value && ParseBytes(value) is null)
            {
                return $"{name} must be the gen0 budget in hexadecimal bytes, more than 0 (e.g. 0x8000000 for 128 MiB), got "
                       + $"'{Input.HoconFile.Excerpt(value, 40)}', which the runtime would ignore: correct it, or unset it for heki's budget";
            }
        }

        return null;
    }

    /// <summary>The bytes of a <c>GCgen0size</c> value as the runtime reads it (hexadecimal, with or without 0x); null when it is not one or is 0.</summary>
    internal static long? ParseBytes(string value)
    {
        var digits = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value;
        return long.TryParse(digits, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var bytes) && bytes > 0
            ? bytes
            : null;
    }

    private static bool IsOneOf(string value, IReadOnlyList<string> values) =>
        values.Any(v => string.Equals(v, value.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Set by a diagnostics tool that starts the program and talks to its runtime: no restart then.</summary>
    public const string DiagnosticPortsVariable = "DOTNET_DiagnosticPorts";

    /// <summary>
    /// Restarts this process with the budget when it should (see the remarks); returns only when it did not
    /// (more than <see cref="MaxVms"/> VMs, a budget already set, opted out, started by a diagnostics tool, <paramref name="entryPoint"/> not the
    /// process's entry assembly, not Linux, or execve failed). Call it first thing in Main: what ran before it runs twice.
    /// </summary>
    /// <param name="entryPoint">The assembly whose Main calls this.</param>
    /// <param name="vms">The number of VMs the command line asks for (<see cref="VmsOption"/>), or null if it does not say.</param>
    public static void Apply(Assembly entryPoint, int? vms)
    {
        // The runtime reads DOTNET_ first (EnvironmentProblem refused a value it would ignore).
        InEffectBytes = Budget(Environment.GetEnvironmentVariable) ?? 0;
        if (!OperatingSystem.IsLinux() || Assembly.GetEntryAssembly() != entryPoint)
            return;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(RestartedVariable)))
        {
            // The runtime read the budget at start; the variables stay in /proc/PID/environ but no child inherits them.
            Environment.SetEnvironmentVariable(RestartedVariable, null);
            if (Environment.GetEnvironmentVariable(RuntimeVariable) == Hex(Mebibytes))
                Environment.SetEnvironmentVariable(RuntimeVariable, null);
            return;
        }

        if (!ShouldRestart(vms, Environment.GetEnvironmentVariable))
            return;
        byte[][] arguments, environment;
        try
        {
            // Raw bytes, so an argument or variable that is not UTF-8 passes through unchanged.
            arguments = Entries(File.ReadAllBytes("/proc/self/cmdline"));
            environment = Entries(File.ReadAllBytes("/proc/self/environ"));
        }
        catch (IOException)
        {
            return;
        }

        if (arguments.Length == 0)
            return;
        Exec(arguments, WithBudget(environment));
        // Only reached if execve failed: run on with the runtime's default budget.
    }

    /// <summary>
    /// The value of <c>--vms N</c>, <c>--vms=N</c> or <c>--vms:N</c> on a command line; null when it has none or it is
    /// not a number (the command reports that itself); <see cref="int.MaxValue"/> when the run's size is in a file this
    /// does not read (a scenario file without <c>--vms</c>, a response file <c>@FILE</c>), so such a run keeps the
    /// runtime's budget whatever its size (QA: a scenario of 5,000 VMs got the budget).
    /// </summary>
    public static int? VmsOption(IReadOnlyList<string> args)
    {
        if (args.TakeWhile(arg => arg != "--").Any(arg => arg.StartsWith('@')))
            return int.MaxValue;
        var inFile = false;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--")
                break;
            var value = args[i] == "--vms" && i + 1 < args.Count ? args[i + 1]
                : args[i].StartsWith("--vms=", StringComparison.Ordinal) || args[i].StartsWith("--vms:", StringComparison.Ordinal) ? args[i]["--vms=".Length..]
                : null;
            if (value is not null)
                return int.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var vms) && vms >= 0 ? vms : null;
            inFile |= !args[i].StartsWith('-') && (args[i].EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || args[i].EndsWith(".yml", StringComparison.OrdinalIgnoreCase));
        }

        return inFile ? int.MaxValue : null;
    }

    /// <summary>Whether a process asking for <paramref name="vms"/> VMs, with this environment, should restart with the budget.</summary>
    internal static bool ShouldRestart(int? vms, Func<string, string?> environment) =>
        !(vms > MaxVms)
        && string.IsNullOrEmpty(environment(RuntimeVariable))
        && string.IsNullOrEmpty(environment(LegacyRuntimeVariable))
        && !(environment(OptOutVariable) is { } optOut && IsOneOf(optOut, OptOutValues))
        // A diagnostics tool that started this process (dotnet-trace collect -- heki ...) waits on this runtime.
        && string.IsNullOrEmpty(environment(DiagnosticPortsVariable));

    /// <summary>
    /// The environment with the budget: an empty <c>DOTNET_GCgen0size=</c> it held is dropped (the runtime would read
    /// the first of two, and the restarted process would restart again).
    /// </summary>
    internal static byte[][] WithBudget(byte[][] environment)
    {
        var name = Encoding.ASCII.GetBytes(RuntimeVariable + "=");
        var marker = Encoding.ASCII.GetBytes(RestartedVariable + "=");
        return
        [
            .. environment.Where(variable => !variable.AsSpan().StartsWith(name) && !variable.AsSpan().StartsWith(marker)),
            Encoding.ASCII.GetBytes($"{RuntimeVariable}={Hex(Mebibytes)}"),
            Encoding.ASCII.GetBytes($"{RestartedVariable}=1"),
        ];
    }

    /// <summary>The gen0 budget the environment gives the runtime, in bytes; null when none (or one it ignores).</summary>
    internal static long? Budget(Func<string, string?> environment) =>
        environment(RuntimeVariable) is { Length: > 0 } dotnet ? ParseBytes(dotnet)
        : environment(LegacyRuntimeVariable) is { Length: > 0 } complus ? ParseBytes(complus)
        : null;

    /// <summary>The runtime's format: hexadecimal bytes.</summary>
    internal static string Hex(int mebibytes) => "0x" + ((long)mebibytes << 20).ToString("x");

    /// <summary>The entries of a NUL-separated block such as /proc/PID/cmdline or /proc/PID/environ.</summary>
    internal static byte[][] Entries(byte[] block)
    {
        var entries = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < block.Length; i++)
        {
            if (block[i] != 0)
                continue;
            entries.Add(block[start..i]);
            start = i + 1;
        }

        if (start < block.Length)
            entries.Add(block[start..]);
        return [.. entries];
    }

    private static void Exec(byte[][] arguments, byte[][] environment)
    {
        var argv = NativeStrings(arguments);
        var envp = NativeStrings(environment);
        RemoveRuntimeEndpoints();
        // The resolved path, not /proc/self/exe, so the process keeps its name (ps, top, pgrep heki).
        execve(Environment.ProcessPath ?? "/proc/self/exe", argv, envp);
        foreach (var pointer in argv.Concat(envp))
            Marshal.FreeHGlobal(pointer);
    }

    /// <summary>
    /// Removes this process's diagnostics socket and debugger pipes. The runtime names them by pid and process start
    /// time, which execve keeps, and removes them only when it exits normally; while they exist the restarted runtime
    /// cannot create its own, and dotnet-trace, dotnet-counters or a debugger could not attach.
    /// </summary>
    private static void RemoveRuntimeEndpoints()
    {
        var pid = Environment.ProcessId;
        foreach (var pattern in (string[])[$"dotnet-diagnostic-{pid}-*-socket", $"clr-debug-pipe-{pid}-*-in", $"clr-debug-pipe-{pid}-*-out"])
        {
            try
            {
                foreach (var file in Directory.EnumerateFiles(Path.GetTempPath(), pattern))
                    File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Then only attaching a diagnostics tool fails; the run itself does not depend on these.
            }
        }
    }

    /// <summary>NUL-terminated copies in native memory, followed by the null pointer execve expects.</summary>
    private static nint[] NativeStrings(byte[][] strings)
    {
        var pointers = new nint[strings.Length + 1];
        for (var i = 0; i < strings.Length; i++)
        {
            pointers[i] = Marshal.AllocHGlobal(strings[i].Length + 1);
            Marshal.Copy(strings[i], 0, pointers[i], strings[i].Length);
            Marshal.WriteByte(pointers[i], strings[i].Length, 0);
        }

        return pointers;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(string path, nint[] argv, nint[] envp);
}
