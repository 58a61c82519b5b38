using System.Collections.Immutable;
using Akka.Actor;
using HekiActors.Observability;
using HekiActors.Protocol;
using HekiActors.Protocol.Serialization;
using HekiActors.Simulation.Guest;

namespace HekiActors.Simulation.Tests.Guest;

/// <summary>A VM's guest-kernel counters travel in <see cref="VmFinished"/>: summed, and through the serializer unchanged.</summary>
public sealed class GuestKernelCountsTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("guest-kernel-counts-test", SimulationSerialization.Config.WithFallback(HekiSerializer.Config));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Fact]
    public void A_vms_kernel_counters_survive_the_serializer_and_add_up_at_the_coordinator()
    {
        var counters = new KernelCounters { FirstBootFailure = -22 };
        counters[KernelCounter.ModuleLoads] = 7;
        counters[KernelCounter.PagesQuarantined] = 123;
        var message = new VmFinished(3, new VmCounts(HekiCounts.Zero, [0], [0], [0], [null], LatencySnapshot.Empty, LatencySnapshot.Empty,
            LatencySnapshot.Empty, [], null, null, counters.ToPayload()));
        var serializer = _system.Serialization.FindSerializerFor(message);

        var back = (VmFinished)_system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier,
            Akka.Serialization.Serialization.ManifestFor(serializer, message));

        var sum = new KernelCounters();
        sum.Add(back.Counts.Kernel!);
        sum.Add(back.Counts.Kernel!);
        Assert.Equal((14L, 246L, -22L), (sum[KernelCounter.ModuleLoads], sum[KernelCounter.PagesQuarantined], sum.FirstBootFailure));
        Assert.Throws<ArgumentException>(() => sum.Add(new GuestKernelCounts(ImmutableArray.Create(1L), 0)));
    }
}
