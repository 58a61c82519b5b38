using System.Globalization;
using HekiActors.Actors.Simulation;
using HekiActors.Memory;

namespace HekiActors.Benchmarks;

/// <summary>
/// The simulation engine's harness (issue 4's targets are whole-system figures, not microbenchmarks):
/// <c>throughput</c> (simulated accesses per second) and <c>boot</c> (boot time of many VMs with their kernel
/// protections, and the process's peak RSS). Run as
/// <c>dotnet run -c Release --project benchmarks -- --simulate throughput|boot [--vms N] [--vcpus N]
/// [--memory-mb N] [--seconds S] [--accesses N] [--rounds N] [--profile P] [--no-mbec]</c>.
/// </summary>
public static class SimulationHarness
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var mode = args.Length > 0 ? args[0] : "throughput";
        var boot = mode == "boot";
        var vms = Int(args, "--vms", boot ? 10_000 : 1_000);
        var vcpus = Int(args, "--vcpus", 2);
        var memoryMb = (ulong)Int(args, "--memory-mb", boot ? 4096 : 1024);
        var seconds = Double(args, "--seconds", boot ? 0 : 10);
        var accesses = Int(args, "--accesses", 0);
        var rounds = Int(args, "--rounds", boot ? 1 : 10);
        var profile = HekiProfiles.TryParse(Value(args, "--profile"), out var p) ? p : HekiProfile.Hardened;
        var spec = new SimulationSpec(vms, vcpus, memoryMb, profile, Mbec: !args.Contains("--no-mbec"),
            Duration: seconds > 0 ? TimeSpan.FromSeconds(seconds) : null, AccessesPerVcpu: seconds > 0 && accesses == 0 ? null : accesses,
            Rounds: rounds, Seed: 1, WorkloadMix.Default, boot ? AttackMix.None : AttackMix.Default);

        output.WriteLine(Invariant($"{mode}: {vms} VMs x {vcpus} vCPUs x {memoryMb} MiB, {profile.Name()}, {Environment.ProcessorCount} cores"));
        var progress = new Progress<SimulationProgress>(s => output.WriteLine(Invariant(
            $"  {s.Elapsed.TotalSeconds,6:F1}s {s.Phase,-5} booted {s.VmsBooted}/{s.VmsTotal} accesses {s.Accesses:N0}")));
        var result = await new SimulationEngine().RunAsync(spec, progress, null, CancellationToken.None).ConfigureAwait(false);
        var workload = result.Elapsed - result.BootElapsed;
        output.WriteLine(Invariant($"boot:        {result.BootElapsed.TotalSeconds:F2} s ({vms / Math.Max(result.BootElapsed.TotalSeconds, 1e-9):F0} VMs/s)"));
        output.WriteLine(Invariant($"workload:    {workload.TotalSeconds:F2} s, {result.Accesses.Total:N0} accesses ({result.Accesses.Faulted:N0} faulted)"));
        output.WriteLine(Invariant($"throughput:  {result.AccessesPerSecond / 1e6:F1} M accesses/s"));
        output.WriteLine(Invariant($"fast path:   p50 {result.FastPathNanoseconds.P50:F1} ns, p99 {result.FastPathNanoseconds.P99:F1} ns per access"));
        output.WriteLine(Invariant($"slow path:   {result.SlowPathFills:N0} fills, p50 {result.SlowPathNanoseconds.P50 / 1000:F1} us, p99 {result.SlowPathNanoseconds.P99 / 1000:F1} us"));
        output.WriteLine(Invariant($"hypercalls:  {result.Hypercalls:N0} ({result.HypercallFailures:N0} failed), p50 {result.HypercallNanoseconds.P50 / 1000:F1} us, p99 {result.HypercallNanoseconds.P99 / 1000:F1} us"));
        output.WriteLine(Invariant($"warnings:    {result.WarningsEmitted:N0} emitted, {result.WarningsSuppressed:N0} suppressed"));
        foreach (var attack in result.Attacks.Where(a => a.Attempted > 0))
            output.WriteLine(Invariant($"attack:      {attack.Kind,-22} {attack.Blocked}/{attack.Attempted} blocked {attack.Why}"));
        output.WriteLine(Invariant($"peak RSS:    {PeakRssMb():F0} MiB (VmHWM)"));
        return 0;
    }

    /// <summary>The process's peak resident set (VmHWM of /proc/self/status), in MiB; 0 where there is no procfs.</summary>
    public static double PeakRssMb()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string? Value(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static int Int(string[] args, string name, int fallback) =>
        Value(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static double Double(string[] args, string name, double fallback) =>
        Value(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
