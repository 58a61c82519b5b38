using Akka.Actor;
using HekiActors.Actors.Supervision;
using HekiActors.Protocol;
using HekiActors.Actors.Vm;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// A running HekiActors model: the actor system, the warning supervisor and the hypervisor. The edge where
/// callers outside the actor system (the CLI, tests) Ask; inside, actors Tell.
/// </summary>
public sealed class HekiHost : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private HekiHost(ActorSystem system, IActorRef warnings, IActorRef hypervisor)
    {
        System = system;
        Warnings = warnings;
        Hypervisor = hypervisor;
    }

    public ActorSystem System { get; }

    /// <summary>The <see cref="WarningSupervisor"/>.</summary>
    public IActorRef Warnings { get; }

    /// <summary>The <see cref="HypervisorActor"/>: send it every request addressed to a VM.</summary>
    public IActorRef Hypervisor { get; }

    public static HekiHost Start(HekiHostOptions? options = null)
    {
        options ??= new HekiHostOptions();
        var config = (options.Config ?? Akka.Configuration.Config.Empty).WithFallback(
            HekiConfig.Build(options.Journal, options.SqlitePath, options.AkkaLogLevel));
        var system = ActorSystem.Create(options.SystemName, config);
        var (warnings, hypervisor) = StartIn(system, options);
        return new HekiHost(system, warnings, hypervisor);
    }

    /// <summary>Starts the supervisor and hypervisor in an existing system (tests use the TestKit's).</summary>
    public static (IActorRef Warnings, IActorRef Hypervisor) StartIn(ActorSystem system, HekiHostOptions options)
    {
        var warnings = system.ActorOf(WarningSupervisor.Props(options.Clock, options.WarningSink, options.WarningObserver), "warnings");
        var hypervisor = system.ActorOf(HypervisorActor.Props(warnings, options.VmSettings), "hypervisor");
        return (warnings, hypervisor);
    }

    /// <summary>Sends <paramref name="request"/> to the hypervisor and waits for the reply.</summary>
    public Task<object> Ask(object request, TimeSpan? timeout = null) =>
        Hypervisor.Ask<object>(request, timeout ?? DefaultTimeout);

    /// <summary>Waits until every warning sent so far has been printed or suppressed.</summary>
    public Task FlushWarnings(TimeSpan? timeout = null) =>
        Warnings.Ask<WarningsFlushed>(Protocol.FlushWarnings.Instance, timeout ?? DefaultTimeout);

    public async ValueTask DisposeAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
    }
}
