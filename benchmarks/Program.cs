using BenchmarkDotNet.Running;

namespace HekiActors.Benchmarks;

/// <summary>
/// Entry point: `dotnet run -c Release --project benchmarks -- --filter '*'` runs BenchmarkDotNet;
/// `-- --memory` runs the attribute-store memory harness (<see cref="StoreMemoryHarness"/>) instead, and
/// `-- --simulate throughput|boot ...` the simulation harness (<see cref="SimulationHarness"/>), and
/// `-- --protect-round-trip [calls]` the hypercall latency harness (<see cref="ProtectRoundTripHarness"/>), and
/// `-- --range-set-warm [repetitions]` the warm over-runs range set (<see cref="StoreRangeSetWarmHarness"/>), and
/// `-- --cluster-protect-round-trip SEED [calls]` the remote hypercall latency (<see cref="ClusterProtectRoundTripHarness"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("--memory"))
            return StoreMemoryHarness.Run(Console.Out);
        if (args.Length > 0 && args[0] == "--range-set-warm")
            return StoreRangeSetWarmHarness.Run(args[1..], Console.Out);
        if (args.Length > 0 && args[0] == "--protect-round-trip")
            return ProtectRoundTripHarness.Run(args[1..], Console.Out);
        if (args.Length > 0 && args[0] == "--cluster-protect-round-trip")
            return ClusterProtectRoundTripHarness.Run(args[1..], Console.Out);
        if (args.Length > 1 && args[0] == "--poll-feed")
            return DashboardHarness.PollFromOutsideAsync(new Uri(args[1])).GetAwaiter().GetResult();
        if (args.Length > 0 && args[0] == "--simulate")
        {
            // Starts as heki does (src/Cli/GcBudget.cs), so a simulation's figures are heki's, with the harness's own
            // default VM count (SimulationHarness); BenchmarkDotNet's runs keep the runtime's default.
            HekiActors.Cli.GcBudget.Apply(typeof(Program).Assembly, HekiActors.Cli.GcBudget.VmsOption(args) ?? (args.ElementAtOrDefault(1) == "boot" ? 10_000 : 1_000));
            return SimulationHarness.RunAsync(args[1..], Console.Out).GetAwaiter().GetResult();
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
