using System.Text;
using Akka.Actor;
using HekiActors.Protocol.Serialization;
using HekiActors.Tests.Shared;

namespace HekiActors.Simulation.Tests;

/// <summary>The simulation's protocol goes through the HekiActors serializer once the engine's configuration registers it.</summary>
public sealed class SimulationSerializationTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("simulation-serializer-test",
        SimulationSerialization.Config.WithFallback(HekiSerializer.Config));

    public static TheoryData<string> TypeNames()
    {
        var data = new TheoryData<string>();
        foreach (var type in typeof(ISimulationMessage).Assembly.GetTypes()
                     .Where(t => typeof(ISimulationMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false }))
            data.Add(type.AssemblyQualifiedName!);
        return data;
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Simulation_message_round_trips_through_the_heki_serializer(string typeName)
    {
        var type = Type.GetType(typeName, throwOnError: true)!;
        var value = new ProtocolSamples(_system).Sample(type);
        var serializer = _system.Serialization.FindSerializerFor(value);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, value);

        var bytes = serializer.ToBinary(value);
        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.IsType<HekiSerializer>(serializer);
        Assert.IsType(type, back);
        Assert.Equal(Encoding.UTF8.GetString(bytes), Encoding.UTF8.GetString(serializer.ToBinary(back)));
    }

    [Fact]
    public void The_simulation_protocol_includes_the_final_counts()
    {
        Assert.Contains(typeof(VmFinished), HekiSerializer.Types([typeof(ISimulationMessage).Assembly]));
        Assert.Contains(typeof(RunRounds), HekiSerializer.Types([typeof(ISimulationMessage).Assembly]));
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
