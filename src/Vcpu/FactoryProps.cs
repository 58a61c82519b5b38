using Akka.Actor;

namespace HekiActors.Vcpu;

/// <summary>
/// Props that make their actor with a compiled factory: for actors created by the thousand (a VM's entity, its vCPUs, its
/// guest kernel). <c>Props.Create(() =&gt; new T(...))</c> builds an expression tree at every call, reads each argument back
/// out of it by reflection and constructs the actor through <c>Activator.CreateInstance</c>: tens of microseconds and
/// ~2 KB of garbage an actor, four actors a booted VM (issue 11). Local actors only: such props are never sent to
/// another node (sharding makes its entities from its own factory on each node).
/// </summary>
public static class FactoryProps
{
    /// <summary>Props whose actor is <paramref name="factory"/>'s (called once per incarnation: at creation and at each restart).</summary>
    public static Props Create<TActor>(Func<TActor> factory) where TActor : ActorBase =>
        Props.CreateBy(new Producer<TActor>(factory));

    /// <summary>
    /// Props whose actor is <paramref name="factory"/>'s of <paramref name="arguments"/>: with a static lambda, one object the
    /// props keep for the actor's life (the producer, the arguments inline) instead of a closure, its delegate and a producer
    /// (issue 11: four actors a booted VM).
    /// </summary>
    public static Props Create<TActor, TArguments>(TArguments arguments, Func<TArguments, TActor> factory) where TActor : ActorBase =>
        Props.CreateBy(new Producer<TActor, TArguments>(arguments, factory));

    private sealed class Producer<TActor, TArguments>(TArguments arguments, Func<TArguments, TActor> factory) : IIndirectActorProducer
        where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => factory(arguments);

        public void Release(ActorBase actor)
        {
        }
    }

    private sealed class Producer<TActor>(Func<TActor> factory) : IIndirectActorProducer where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => factory();

        public void Release(ActorBase actor)
        {
        }
    }
}
