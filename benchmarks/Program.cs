using BenchmarkDotNet.Running;

namespace HekiActors.Benchmarks;

/// <summary>Entry point: `dotnet run -c Release --project benchmarks -- --filter '*'`.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
