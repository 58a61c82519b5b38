using System.Diagnostics;
using System.Globalization;
using HekiActors.Memory;

namespace HekiActors.Benchmarks;

/// <summary>
/// The over-runs range set on cache-warm stores, timed with a Stopwatch:
/// <c>dotnet run -c Release --project benchmarks -- --range-set-warm [repetitions]</c>. Each repetition clones the
/// 1,000-run store 8 times (untimed), touches every clone so it sits in cache as a working VM actor's store does,
/// then times kvm_permissions_set of the 262,144-page range (over its ~250 runs) on each. BenchmarkDotNet cannot
/// time this case: its forced collections between an iteration's setup and the iteration leave the clones cold,
/// and timing clone + set inside the benchmark buries the set under the clone's allocation.
/// </summary>
public static class StoreRangeSetWarmHarness
{
    private const int Pool = 8;

    public static int Run(string[] args, TextWriter output)
    {
        var repetitions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3_000;
        foreach (var profile in new[] { HekiProfile.Hardened, HekiProfile.HekiV2 })
        {
            var pristine = StoreFixture.BuildStore(profile);
            var perCall = new double[repetitions];
            var pool = new VmMemoryAttributes[Pool];
            for (var rep = 0; rep < repetitions; rep++)
            {
                for (var i = 0; i < Pool; i++)
                    pool[i] = pristine.Clone();
                ulong touched = 0;
                foreach (var vm in pool)
                    for (var gfn = StoreRangeSetBenchmarks.RangeStart; gfn < StoreRangeSetBenchmarks.RangeEnd; gfn += 64)
                        touched += vm.GetAttributes(gfn);
                GC.KeepAlive(touched);

                var start = Stopwatch.GetTimestamp();
                foreach (var vm in pool)
                {
                    if (vm.PermissionsSet(StoreRangeSetBenchmarks.RangeStart, StoreRangeSetBenchmarks.RangeEnd,
                            HekiAttributes.Read | HekiAttributes.Write, out _) != Errno.Ok)
                        throw new InvalidOperationException("permissions_set failed");
                }

                perCall[rep] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Pool;
            }

            Array.Sort(perCall);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{profile.Name(),-8} warm set of 262,144 pages over ~250 runs: median {perCall[repetitions / 2]:F0} ns, " +
                $"p10 {perCall[repetitions / 10]:F0} ns, p90 {perCall[repetitions * 9 / 10]:F0} ns ({repetitions} x {Pool} calls)"));
        }

        return 0;
    }
}
