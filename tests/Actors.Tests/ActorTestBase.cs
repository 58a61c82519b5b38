using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit.Xunit2;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>A TestKit with the local VM parent and warning supervisor started on the in-memory journal and a fake clock.</summary>
public abstract class ActorTestBase : TestKit
{
    protected ActorTestBase(ITestOutputHelper output, VmActorSettings? settings = null, Config? config = null)
        : base((config ?? Config.Empty).WithFallback(TestMode.Config).WithFallback(HekiConfig.Build(JournalKind.InMemory, logLevel: "WARNING")).WithFallback(
            ConfigurationFactory.ParseString("akka.loggers = [\"Akka.TestKit.TestEventListener, Akka.TestKit\"]")), output: output)
    {
        Clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T00:00:00Z"));
        (Warnings, Vms) = HekiHost.StartIn(Sys, new HekiHostOptions(Clock: Clock, VmSettings: settings));
    }

    protected FakeTimeProvider Clock { get; }
    protected IActorRef Warnings { get; }
    protected IActorRef Vms { get; }

    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // CR bits used across the suite (§7).
    protected const ulong Cr0Pe = 1UL << 0;
    protected const ulong Cr0Wp = CrPinning.Cr0Wp;
    protected const ulong Cr0Pg = 1UL << 31;
    protected const ulong Cr4Pae = 1UL << 5;
    protected const ulong Cr4Smep = CrPinning.Cr4Smep;
    protected const ulong Cr4Smap = CrPinning.Cr4Smap;

    // Heki permission bits (§1).
    protected const ulong R = HekiAttributes.Read;
    protected const ulong W = HekiAttributes.Write;
    protected const ulong X = HekiAttributes.Exec;
    protected const ulong I = HekiAttributes.Immutable;

    protected T Request<T>(object message) => Vms.Ask<T>(message, Timeout).GetAwaiter().GetResult();

    protected object Request(object message) => Vms.Ask<object>(message, Timeout).GetAwaiter().GetResult();

    protected void CreateVm(string vmId, int vcpus = 2, ulong memoryMb = 64, bool mbec = true, bool privateMemory = false,
        HekiProfile profile = HekiProfile.Hardened)
    {
        var reply = Request(new CreateVm(vmId, Guid.NewGuid(), VmConfig.FromMegabytes(memoryMb, vcpus, mbec, privateMemory, profile)));
        Assert.IsType<VmCreated>(reply);
    }

    protected long Protect(string vmId, int vcpu, params MemoryRange[] ranges) =>
        Request<HypercallDone>(new GuestProtectMemory(vmId, vcpu, Guid.NewGuid(), [ranges], 0)).Ret;

    /// <summary>PROTECT_MEMORY with a chain of list pages, a chosen request id and CPL.</summary>
    protected long ProtectList(string vmId, int vcpu, MemoryRange[][] listPages, Guid? requestId = null, byte cpl = 0) =>
        Request<HypercallDone>(new GuestProtectMemory(vmId, vcpu, requestId ?? Guid.NewGuid(), listPages, cpl)).Ret;

    /// <summary>A PROTECT_MEMORY range in gfns: [startGfn, endGfn) with <paramref name="permissions"/>.</summary>
    protected static MemoryRange Gfns(ulong startGfn, ulong endGfn, ulong permissions) =>
        new(startGfn << VmMemoryAttributes.PageShift, endGfn << VmMemoryAttributes.PageShift, permissions);

    protected static ulong Gpa(ulong gfn) => gfn << VmMemoryAttributes.PageShift;

    protected AccessResult Access(string vmId, int vcpu, ulong gpa, AccessKind kind, byte cpl = 0) =>
        Request<GuestAccessDone>(new GuestAccess(vmId, vcpu, gpa, kind, cpl)).Result;

    protected long LockCr(string vmId, int vcpu, ulong cr, ulong pin, ulong flags = 0, byte cpl = 0, Guid? requestId = null) =>
        Request<HypercallDone>(new GuestLockCr(vmId, vcpu, requestId ?? Guid.NewGuid(), cr, pin, flags, cpl)).Ret;

    protected long Hypercall(string vmId, int vcpu, ulong nr, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, byte cpl = 0) =>
        Request<HypercallDone>(new GuestHypercall(vmId, vcpu, Guid.NewGuid(), nr, a0, a1, a2, cpl)).Ret;

    protected bool WriteCr(string vmId, int vcpu, int cr, ulong value, Guid? requestId = null) =>
        Request<CrWriteDone>(new GuestWriteCr(vmId, vcpu, requestId ?? Guid.NewGuid(), cr, value)).Written;

    protected ulong ReadCr(string vmId, int vcpu, int cr) => Request<CrValue>(new GuestReadCr(vmId, vcpu, cr)).Value;

    protected ulong Permissions(string vmId, ulong gfn) => Request<PermissionsValue>(new GetPermissions(vmId, gfn)).Attr;

    protected ulong Attributes(string vmId, ulong gfn) => Request<AttributesValue>(new GetMemoryAttributes(vmId, gfn)).Word;

    protected int SetPermissions(string vmId, ulong start, ulong end, ulong attr, Guid? requestId = null) =>
        Request<HostReturn>(new SetPermissions(vmId, requestId ?? Guid.NewGuid(), start, end, attr)).Ret;

    protected int SetMemoryAttributes(string vmId, ulong address, ulong size, ulong attributes, ulong flags = 0) =>
        Request<HostReturn>(new SetMemoryAttributes(vmId, Guid.NewGuid(), address, size, attributes, flags)).Ret;

    protected VmStatus Status(string vmId) => Request<VmStatus>(new GetVmStatus(vmId));

    protected string[] VmIds() => Request<VmList>(ListVms.Instance).VmIds;

    protected WarningStats Stats() => Warnings.Ask<WarningStats>(GetWarningStats.Instance, Timeout).GetAwaiter().GetResult();

    protected void FlushWarnings() => Warnings.Ask<WarningsFlushed>(Protocol.FlushWarnings.Instance, Timeout).GetAwaiter().GetResult();

    /// <summary>
    /// Runs <paramref name="action"/> and returns, in order, every line the warning supervisor printed meanwhile:
    /// flushes the supervisor, then reads the event stream up to a sentinel published after the flush. Lines of earlier
    /// requests (reported before their answers, printed whenever the supervisor gets to them) are flushed out first.
    /// </summary>
    protected IReadOnlyList<string> CapturePrinted(Action action)
    {
        FlushWarnings();
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(Warning));
        try
        {
            action();
            FlushWarnings();
            var sentinel = new object();
            Sys.EventStream.Publish(new Warning("test", GetType(), sentinel));
            var lines = new List<string>();
            while (true)
            {
                var warning = probe.ExpectMsg<Warning>(Timeout);
                if (ReferenceEquals(warning.Message, sentinel))
                    return lines;
                if (warning.LogClass == typeof(WarningSupervisor))
                    lines.Add(warning.Message.ToString()!);
            }
        }
        finally
        {
            Sys.EventStream.Unsubscribe(probe.Ref);
        }
    }
}
