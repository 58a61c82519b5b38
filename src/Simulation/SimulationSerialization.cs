using Akka.Configuration;
using HekiActors.Protocol.Serialization;

namespace HekiActors.Simulation;

/// <summary>Registers the simulation's protocol (<see cref="ISimulationMessage"/>) with the HekiActors serializer.</summary>
public static class SimulationSerialization
{
    public static Config Config { get; } = ConfigurationFactory.ParseString(
        $"{HekiSerializer.ProtocolAssembliesPath} = [\"{typeof(ISimulationMessage).Assembly.GetName().Name}\"]");
}
