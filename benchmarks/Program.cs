using BenchmarkDotNet.Running;

namespace HekiActors.Benchmarks;

/// <summary>
/// Entry point: `dotnet run -c Release --project benchmarks -- --filter '*'` runs BenchmarkDotNet;
/// `-- --memory` runs the attribute-store memory harness (<see cref="StoreMemoryHarness"/>) instead.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("--memory"))
            return StoreMemoryHarness.Run(Console.Out);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
