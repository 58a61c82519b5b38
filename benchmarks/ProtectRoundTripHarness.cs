using System.Diagnostics;
using System.Globalization;

namespace HekiActors.Benchmarks;

/// <summary>
/// Percentiles of the PROTECT_MEMORY round trip (issue 3: p50 ≤ 50 µs with 4 vCPUs and the in-memory journal),
/// timing each call: <c>dotnet run -c Release --project benchmarks -- --protect-round-trip [calls]</c>.
/// Each call goes asker → VM parent → VM → vCPU 0 → VM (persist, shootdown to 4 vCPUs, acks) → vCPU 0 → asker.
/// </summary>
public static class ProtectRoundTripHarness
{
    public static int Run(string[] args, TextWriter output)
    {
        var calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        var fixture = ActorFixture.Start();
        try
        {
            for (var i = 0; i < 2_000; i++)
                fixture.ProtectRoundTrip(); // warm-up: JIT, journal, mailboxes
            var micros = new double[calls];
            for (var i = 0; i < calls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                var ret = fixture.ProtectRoundTrip();
                micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (ret != 0)
                    throw new InvalidOperationException($"protect returned {ret}");
            }

            Array.Sort(micros);
            double At(double q) => micros[Math.Min(calls - 1, (int)(q * calls))];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PROTECT_MEMORY round trip, {ActorFixture.Vcpus} vCPUs, in-memory journal, {calls} calls: " +
                $"p50 {At(0.50):F1} us, p90 {At(0.90):F1} us, p99 {At(0.99):F1} us, max {micros[^1]:F1} us"));
            return At(0.50) <= 50 ? 0 : 1;
        }
        finally
        {
            fixture.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
