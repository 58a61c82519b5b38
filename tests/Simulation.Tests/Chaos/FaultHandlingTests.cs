using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Simulation.Chaos;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace HekiActors.Simulation.Tests.Chaos;

/// <summary>
/// How the model tolerates each fault kind `heki chaos` injects (docs/chaos.md, "Faults"), one behaviour per test,
/// on the VM parent and warning supervisor the chaos runner uses, over <see cref="ChaosJournal"/>: a duplicate or a
/// resend (same request id) gets the first answer and is applied once, including a create or a destroy resent while
/// the first is still being written; a stale copy never undoes a later change; crashed actors come back with their
/// state; the warning supervisor's decisions and resets reach the oracle in its own order.
/// </summary>
public sealed class FaultHandlingTests : TestKit
{
    private const string Vm = "f";
    private const ulong R = HekiAttributes.Read, W = HekiAttributes.Write, X = HekiAttributes.Exec, I = HekiAttributes.Immutable;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly IActorRef _vms;
    private readonly IActorRef _warnings;
    private readonly RecordingSink _sink = new();
    private readonly JournalFaults _journal;

    public FaultHandlingTests(ITestOutputHelper output)
        : base(ConfigurationFactory.ParseString(ChaosJournal.Config)
            .WithFallback(HekiConfig.Build(JournalKind.InMemory, logLevel: "ERROR")), output: output)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T00:00:00Z"));
        (_warnings, _vms) = HekiHost.StartIn(Sys, new HekiHostOptions(Clock: clock, WarningSink: _sink));
        _journal = JournalFaults.Get(Sys);
    }

    private T Request<T>(object message) => _vms.Ask<T>(message, Timeout).GetAwaiter().GetResult();

    private static CreateVm Create(Guid? id = null, HekiProfile profile = HekiProfile.Hardened) =>
        new(Vm, id ?? Guid.NewGuid(), VmConfig.FromMegabytes(64, 2, mbec: true, privateMemory: false, profile));

    private static GuestProtectMemory Protect(Guid id, ulong startGfn, ulong endGfn, ulong permissions) =>
        new(Vm, 0, id, [[new MemoryRange(startGfn << 12, endGfn << 12, permissions)]], 0);

    private long Sequence() => Request<VmStatus>(new GetVmStatus(Vm)).LastSequenceNr;

    private ulong Permissions(ulong gfn) => Request<PermissionsValue>(new GetPermissions(Vm, gfn)).Attr;

    /// <summary>The next journal write of the VM waits <paramref name="stall"/>: what is sent meanwhile meets a change in flight.</summary>
    private void StallNextWrite(TimeSpan stall) =>
        _journal.Arm(VmActor.PersistenceIdFor(Vm), new ArmedJournalFault(JournalFault.WriteStall, stall));

    private void CreateVm() => Assert.IsType<VmCreated>(Request<object>(Create()));

    [Fact]
    public void A_destroy_resent_while_the_first_is_being_written_gets_the_same_answer_and_never_destroys_a_later_incarnation()
    {
        // The 60 s run's lost changes (chaos-4): the old host answered this resend "no such VM", the runner recorded
        // an error, and the oracle never learned that the VM was destroyed.
        CreateVm();
        var destroy = new DestroyVm(Vm, Guid.NewGuid());
        StallNextWrite(TimeSpan.FromMilliseconds(300));
        _vms.Tell(destroy, TestActor);
        _vms.Tell(destroy, TestActor); // the resend, while the destroyed event is still being written
        Assert.Equal(new VmDestroyed(Vm), ExpectMsg<object>(Timeout));
        Assert.Equal(new VmDestroyed(Vm), ExpectMsg<object>(Timeout));

        CreateVm();
        Assert.Equal(0, Request<HypercallDone>(Protect(Guid.NewGuid(), 0x10, 0x11, R)).Ret);
        Assert.Equal(new VmDestroyed(Vm), Request<object>(destroy)); // a stale copy, after a new create
        Assert.Equal(R, Permissions(0x10));
    }

    [Fact]
    public void A_create_resent_while_the_first_is_being_written_gets_the_same_answer_and_creates_once()
    {
        var create = Create();
        StallNextWrite(TimeSpan.FromMilliseconds(300));
        _vms.Tell(create, TestActor);
        _vms.Tell(create, TestActor);
        Assert.Equal(new VmCreated(Vm), ExpectMsg<object>(Timeout));
        Assert.Equal(new VmCreated(Vm), ExpectMsg<object>(Timeout));
        Assert.Equal(1, Sequence());
        var other = Request<object>(Create());
        Assert.Equal(RejectionCode.VmExists, Assert.IsType<CommandRejected>(other).Code);
    }

    [Fact]
    public void A_duplicate_request_is_applied_once_and_both_copies_get_the_same_answer()
    {
        CreateVm();
        var before = Sequence();
        var protect = Protect(Guid.NewGuid(), 0x10, 0x12, R | X);
        StallNextWrite(TimeSpan.FromMilliseconds(100));
        _vms.Tell(protect, TestActor);
        _vms.Tell(protect, TestActor);
        var first = ExpectMsg<HypercallDone>(Timeout);
        Assert.Equal(first, ExpectMsg<HypercallDone>(Timeout));
        Assert.Equal(0, first.Ret);
        Assert.Equal(before + 1, Sequence()); // one event
        Assert.Equal(R | X, Permissions(0x11));
    }

    [Fact]
    public void Under_heki_v2_a_duplicate_of_a_list_the_RFC_read_past_its_end_gets_the_same_host_integrity_fault_count()
    {
        // The 60 s heki-v2 run's violations: the record kept only the return value, so the second copy was answered
        // without the fault count, the runner saw two different answers, and the oracle never learned of the change.
        Assert.IsType<VmCreated>(Request<object>(Create(profile: HekiProfile.HekiV2)));
        var page = Enumerable.Range(0, ProtectMemory.MaxRangesPerPage + 1)
            .Select(i => new MemoryRange((0x100UL + (ulong)i) << 12, (0x101UL + (ulong)i) << 12, R | W)).ToArray();
        var protect = new GuestProtectMemory(Vm, 0, Guid.NewGuid(), [page], 0);
        _vms.Tell(protect, TestActor);
        _vms.Tell(protect, TestActor);
        var first = ExpectMsg<HypercallDone>(Timeout);
        Assert.Equal(1, first.HostIntegrityFaults);
        Assert.Equal(first, ExpectMsg<HypercallDone>(Timeout));

        // And after a restart, from the journal.
        EventFilter.Exception<VmCrashException>().ExpectOne(() => _vms.Tell(new CrashVm(Vm, "test")));
        Assert.Equal(first, Request<HypercallDone>(protect));
    }

    [Fact]
    public void A_request_whose_reply_was_lost_is_retried_with_its_id_and_answered_from_the_VMs_record()
    {
        CreateVm();
        var before = Sequence();
        var set = new SetPermissions(Vm, Guid.NewGuid(), 0x20, 0x24, R);
        _vms.Tell(set, ActorRefs.Nobody); // applied; its reply is lost
        Assert.Equal(new HostReturn(0), Request<object>(set)); // the sender's retry
        Assert.Equal(before + 1, Sequence());

        // A refused request is not in the state: its retry is answered from the request memo, not decided (and
        // warned about) again.
        Assert.Equal(0, Request<HypercallDone>(Protect(Guid.NewGuid(), 0x30, 0x31, R | I)).Ret);
        var refused = Protect(Guid.NewGuid(), 0x30, 0x31, R | W | X);
        _vms.Tell(refused, ActorRefs.Nobody);
        Assert.Equal(Errno.EPERM, Request<HypercallDone>(refused).Ret);
        Flush();
        Assert.Equal(1, _sink.Decisions(WarningSite.ImmutableChange));
    }

    [Fact]
    public void A_stale_copy_delivered_after_a_later_change_is_answered_from_the_record_and_changes_nothing()
    {
        CreateVm();
        var early = new SetPermissions(Vm, Guid.NewGuid(), 0x40, 0x41, R);
        Assert.Equal(new HostReturn(0), Request<object>(early));
        Assert.Equal(new HostReturn(0), Request<object>(new SetPermissions(Vm, Guid.NewGuid(), 0x40, 0x41, R | W)));
        var before = Sequence();

        Assert.Equal(new HostReturn(0), Request<object>(early)); // the reordered copy
        Assert.Equal(R | W, Permissions(0x40));
        Assert.Equal(before, Sequence());

        // The record of applied requests is part of the journaled state: it holds across a crash too.
        EventFilter.Exception<VmCrashException>().ExpectOne(() => _vms.Tell(new CrashVm(Vm, "test")));
        Assert.Equal(new HostReturn(0), Request<object>(early));
        Assert.Equal(R | W, Permissions(0x40));
        Assert.Equal(before, Sequence());
    }

    [Fact]
    public void A_VM_crashed_and_restarted_by_its_supervisor_recovers_every_acknowledged_change_even_after_a_failed_recovery()
    {
        CreateVm();
        Assert.Equal(0, Request<HypercallDone>(Protect(Guid.NewGuid(), 0x50, 0x52, R | I)).Ret);
        Assert.Equal(0, Request<HypercallDone>(new GuestLockCr(Vm, 0, Guid.NewGuid(), 0, CrPinning.Cr0Wp, 0, 0)).Ret);

        EventFilter.Exception<VmCrashException>().ExpectOne(() => _vms.Tell(new CrashVm(Vm, "test")));
        Assert.Equal(R | I, Permissions(0x51));

        // Its restart's recovery read fails once: the VM stops, and starts again on the next request.
        _journal.Arm(VmActor.PersistenceIdFor(Vm), new ArmedJournalFault(JournalFault.RecoveryFailure, TimeSpan.Zero));
        _vms.Tell(new CrashVm(Vm, "test"));
        AwaitAssert(() => Assert.Equal(R | I, _vms.Ask<PermissionsValue>(new GetPermissions(Vm, 0x51), TimeSpan.FromMilliseconds(500))
            .GetAwaiter().GetResult().Attr), Timeout, TimeSpan.FromMilliseconds(50));
        var status = Request<VmStatus>(new GetVmStatus(Vm));
        Assert.Equal(CrPinning.Cr0Wp, status.Cr0Pins);
        Assert.Equal(Errno.EPERM, Request<HypercallDone>(Protect(Guid.NewGuid(), 0x50, 0x51, R | W)).Ret);
    }

    [Fact]
    public void A_crashed_warning_supervisor_is_restarted_with_its_limits()
    {
        CreateVm();
        Assert.Equal(0, Request<HypercallDone>(Protect(Guid.NewGuid(), 0x60, 0x61, R | I)).Ret);
        for (var i = 0; i < RateLimiter.DefaultBurst; i++)
            Assert.Equal(Errno.EPERM, Request<HypercallDone>(Protect(Guid.NewGuid(), 0x60, 0x61, R | W)).Ret);
        Flush();
        EventFilter.Exception<WarningSupervisorCrashException>().ExpectOne(() => _warnings.Tell(new CrashWarningSupervisor("test")));

        Assert.Equal(Errno.EPERM, Request<HypercallDone>(Protect(Guid.NewGuid(), 0x60, 0x61, R | W)).Ret);
        Flush();
        Assert.Equal([true, true, true, true, true, true, true, true, true, true, false], _sink.Printed(WarningSite.ImmutableChange));
    }

    [Fact]
    public void The_warning_supervisor_tells_the_oracle_of_a_reset_in_its_own_order_among_the_decisions()
    {
        _warnings.Tell(new WarningReport("a", HekiProfile.Hardened, WarningSite.ImmutableChange, "old incarnation"));
        _warnings.Tell(new ResetVmWarnings("a"));
        _warnings.Tell(new WarningReport("a", HekiProfile.Hardened, WarningSite.ImmutableChange, "new incarnation"));
        Flush();
        Assert.Equal(["decided a True", "reset a", "decided a True"], _sink.Log);
    }

    private void Flush() => _warnings.Ask<WarningsFlushed>(FlushWarnings.Instance, Timeout).GetAwaiter().GetResult();

    /// <summary>What the oracle hears from the warning supervisor, in order.</summary>
    private sealed class RecordingSink : IWarningSink, IWarningDecisionObserver
    {
        private readonly ConcurrentQueue<(string Entry, WarningSite? Site, bool Printed)> _log = new();

        public string[] Log => [.. _log.Select(e => e.Entry)];

        public int Decisions(WarningSite site) => _log.Count(e => e.Site == site);

        public bool[] Printed(WarningSite site) => [.. _log.Where(e => e.Site == site).Select(e => e.Printed)];

        public void Write(string line)
        {
        }

        public void Decided(string vmId, HekiProfile profile, WarningSite site, bool printed, long timestamp, long frequency) =>
            _log.Enqueue(($"decided {vmId} {printed}", site, printed));

        public void LimitsReset(string vmId) => _log.Enqueue(($"reset {vmId}", null, false));
    }
}
