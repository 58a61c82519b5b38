using System.Diagnostics;
using System.Globalization;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Simulation;

namespace HekiActors.Benchmarks;

/// <summary>
/// Issue 13: percentiles of the PROTECT_MEMORY round trip to a VM on another node of a running cluster (target p50 ≤ 1 ms):
/// <c>dotnet run -c Release --project benchmarks -- --cluster-protect-round-trip SEED [calls]</c>. This process joins the
/// cluster as a client (it hosts no VMs), creates one VM with 4 vCPUs on the nodes and times each call, one at a time:
/// client → proxy → the VM's node (region → VM → vCPU 0 → VM: persist to the nodes' journal, shootdown, acks) → client.
/// </summary>
public static class ClusterProtectRoundTripHarness
{
    public static int Run(string[] args, TextWriter output)
    {
        var seed = args.Length > 0 ? args[0] : throw new ArgumentException("usage: --cluster-protect-round-trip SEED [calls]");
        var calls = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5_000;
        var client = HekiHost.Start(ClusterClient.Options(new HekiHostOptions(AkkaLogLevel: "OFF"), seed));
        try
        {
            ClusterClient.WaitUntilUpAsync(client, seed, CancellationToken.None).GetAwaiter().GetResult();
            var vm = $"round-trip-{Guid.NewGuid():N}";
            Expect<VmCreated>(client, new CreateVm(vm, Guid.NewGuid(), VmConfig.FromMegabytes(1024, 4)));
            var toggle = 0;
            long Call()
            {
                var permissions = (toggle++ & 1) == 0 ? HekiAttributes.Read : HekiAttributes.Read | HekiAttributes.Write;
                return Expect<HypercallDone>(client, new GuestProtectMemory(vm, 0, Guid.NewGuid(),
                    [[new MemoryRange(0x30000UL << VmMemoryAttributes.PageShift, 0x30200UL << VmMemoryAttributes.PageShift, permissions)]], 0)).Ret;
            }

            for (var i = 0; i < 500; i++)
                Call(); // warm-up: JIT on both sides, connections, the journal
            var micros = new double[calls];
            for (var i = 0; i < calls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                var ret = Call();
                micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (ret != 0)
                    throw new InvalidOperationException($"protect returned {ret}");
            }

            var node = ClusterClient.NodeCountsAsync(client).GetAwaiter().GetResult()
                .Where(n => n.Vms > 0).Select(n => n.Address).FirstOrDefault() ?? "?";
            Array.Sort(micros);
            double At(double q) => micros[Math.Min(calls - 1, (int)(q * calls))];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PROTECT_MEMORY round trip to a VM on another node ({node}), 4 vCPUs, the nodes' journal, {calls} calls: " +
                $"p50 {At(0.50):F0} us, p90 {At(0.90):F0} us, p99 {At(0.99):F0} us, max {micros[^1]:F0} us"));
            return At(0.50) <= 1_000 ? 0 : 1;
        }
        finally
        {
            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static T Expect<T>(HekiHost client, object request) =>
        client.Ask(request, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult() is T reply
            ? reply
            : throw new InvalidOperationException($"{request.GetType().Name} was not answered with {typeof(T).Name}");
}
