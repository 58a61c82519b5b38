using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Vcpu.Hypercalls;
using HekiActors.Vcpu.Protocol;
using HekiActors.Actors.Protocol;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>A TestKit with the hypervisor and warning supervisor started on the in-memory journal and a fake clock.</summary>
public abstract class ActorTestBase : TestKit
{
    protected ActorTestBase(ITestOutputHelper output, VmActorSettings? settings = null)
        : base(HekiConfig.Build(JournalKind.InMemory, logLevel: "WARNING").WithFallback(ConfigurationFactory.ParseString(
            "akka.loggers = [\"Akka.TestKit.TestEventListener, Akka.TestKit\"]")), output: output)
    {
        Clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T00:00:00Z"));
        (Warnings, Hypervisor) = HekiHost.StartIn(Sys, new HekiHostOptions(Clock: Clock, VmSettings: settings));
    }

    protected FakeTimeProvider Clock { get; }
    protected IActorRef Warnings { get; }
    protected IActorRef Hypervisor { get; }

    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    protected T Request<T>(object message) => Hypervisor.Ask<T>(message, Timeout).GetAwaiter().GetResult();

    protected object Request(object message) => Hypervisor.Ask<object>(message, Timeout).GetAwaiter().GetResult();

    protected void CreateVm(string vmId, int vcpus = 2, ulong memoryMb = 64, bool mbec = true, bool privateMemory = false,
        HekiProfile profile = HekiProfile.Hardened)
    {
        var reply = Request(new CreateVm(vmId, Guid.NewGuid(), VmConfig.FromMegabytes(memoryMb, vcpus, mbec, privateMemory, profile)));
        Assert.IsType<VmCreated>(reply);
    }

    protected long Protect(string vmId, int vcpu, params MemoryRange[] ranges) =>
        Request<HypercallDone>(new GuestProtectMemory(vmId, vcpu, Guid.NewGuid(), [ranges], 0)).Ret;

    protected AccessResult Access(string vmId, int vcpu, ulong gpa, AccessKind kind, byte cpl = 0) =>
        Request<GuestAccessDone>(new GuestAccess(vmId, vcpu, gpa, kind, cpl)).Result;

    protected void FlushWarnings() => Warnings.Ask<WarningsFlushed>(Supervision.FlushWarnings.Instance, Timeout).GetAwaiter().GetResult();
}
