namespace HekiActors.Protocol;

/// <summary>
/// Every message of the HekiActors protocols. <see cref="Serialization.HekiSerializer"/> is bound to it (and to the
/// VM's events and snapshots), so no message ever falls back to Akka's default serializer.
/// </summary>
/// <remarks>
/// The protocols, each with its marker: <see cref="IWithVmId"/> for every request addressed to a VM (host requests
/// such as CreateVm, and <see cref="IVcpuCommand"/> for guest operations on one vCPU); <see cref="IReply"/> for
/// their answers; <see cref="IVmVcpuMessage"/> between a VM and its vCPUs; <see cref="IWarningMessage"/> to and
/// from the warning supervisor; <see cref="ISimulationMessage"/> inside a simulation.
/// </remarks>
public interface IHekiMessage;

/// <summary>An answer to a request addressed to a VM or a vCPU.</summary>
public interface IReply : IHekiMessage;

/// <summary>A message between a VM and one of its vCPUs.</summary>
public interface IVmVcpuMessage : IHekiMessage;

/// <summary>A message to or from the warning supervisor.</summary>
public interface IWarningMessage : IHekiMessage;
