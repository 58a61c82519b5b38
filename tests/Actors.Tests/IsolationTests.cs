using Akka.Actor;
using HekiActors.Protocol;
using HekiActors.Memory;
using HekiActors.Vcpu;
using HekiActors.Memory.Hypercalls;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>VMs are isolated; requests name existing VMs and vCPUs; duplicates are applied once.</summary>
public class IsolationTests(ITestOutputHelper output) : ActorTestBase(output)
{
    private static readonly ulong[] ProbeGfns = [0x0, 0x10, 0x11, 0x12, 0x20, 0x3F, 0x40, 0x100];

    /// <summary>Everything observable about a VM's permissions, attributes, pins, CRs and accesses.</summary>
    private string Observe(string vmId)
    {
        var parts = new List<string>();
        var status = Status(vmId);
        parts.Add($"pins {status.Cr0Pins:x}/{status.Cr4Pins:x} runs {status.Runs}");
        foreach (var gfn in ProbeGfns)
            parts.Add($"{gfn:x}: perm {Permissions(vmId, gfn):x} word {Attributes(vmId, gfn):x}");
        for (var v = 0; v < 2; v++)
        {
            parts.Add($"cpu{v} cr0 {ReadCr(vmId, v, 0):x} cr3 {ReadCr(vmId, v, 3):x} cr4 {ReadCr(vmId, v, 4):x}");
            foreach (var gfn in ProbeGfns)
                foreach (var kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Exec })
                    parts.Add($"cpu{v} {gfn:x} {kind}: {Access(vmId, v, Gpa(gfn), kind)}");
        }

        return string.Join("\n", parts);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public void Nothing_sent_for_VM_a_reads_or_changes_VM_b(HekiProfile profile)
    {
        CreateVm("a", privateMemory: true, profile: profile);
        CreateVm("b", privateMemory: true, profile: profile);
        // Give b some state of its own.
        Assert.Equal(0, Protect("b", 0, Gfns(0x10, 0x11, R | X)));
        Assert.Equal(0, SetMemoryAttributes("b", Gpa(0x40), 0x1000, HekiAttributes.KvmPrivate));
        Assert.True(WriteCr("b", 1, 0, Cr0Wp | Cr0Pe));
        Assert.Equal(0, LockCr("b", 1, 0, Cr0Wp));
        var before = Observe("b");

        // Everything a guest or host can do to a, on the same gfns and registers.
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x13, R | I), Gfns(0x20, 0x40, R)));
        Assert.Equal(0, SetPermissions("a", 0x0, 0x1, R));
        Assert.Equal(0, SetPermissions("a", 0x100, 0x101, W));
        Assert.Equal(0, SetMemoryAttributes("a", 0, 0x200000, HekiAttributes.KvmPrivate));
        Assert.Equal(0, LockCr("a", 0, 4, Cr4Smep | Cr4Smap));
        Assert.Equal(0, LockCr("a", 1, 0, Cr0Wp | Cr0Pg));
        Assert.True(WriteCr("a", 0, 3, 0xDEAD000));
        Assert.True(WriteCr("a", 1, 4, Cr4Smep | Cr4Smap));
        Assert.False(WriteCr("a", 1, 0, 0));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));
        Assert.Equal(Errno.EPERM, SetPermissions("a", 0x10, 0x11, R | W | X));
        Vms.Tell(new CrashVm("a", "isolation"));
        Assert.Equal(R | I, Permissions("a", 0x10));

        Assert.Equal(before, Observe("b"));
        // b can still change what a made immutable, and b's pins are its own.
        Assert.Equal(0, SetPermissions("b", 0x12, 0x13, R | W | X | I));
        Assert.True(WriteCr("b", 0, 4, 0));
    }

    [Fact]
    public void A_request_for_an_unknown_VM_is_rejected_naming_it()
    {
        CreateVm("a");
        object[] requests =
        [
            new GetPermissions("ghost", 0),
            new GetMemoryAttributes("ghost", 0),
            new SetPermissions("ghost", Guid.NewGuid(), 0, 1, R),
            new SetMemoryAttributes("ghost", Guid.NewGuid(), 0, 0x1000, 0, 0),
            new GetVmStatus("ghost"),
            new DestroyVm("ghost", Guid.NewGuid()),
            new CrashVm("ghost", "x"),
            new GuestAccess("ghost", 0, 0, AccessKind.Write, 0),
            new GuestProtectMemory("ghost", 0, Guid.NewGuid(), [[Gfns(0, 1, R)]], 0),
            new GuestLockCr("ghost", 0, Guid.NewGuid(), 0, Cr0Wp, 0, 0),
            new GuestWriteCr("ghost", 0, Guid.NewGuid(), 0, 0),
            new GuestReadCr("ghost", 0, 0),
        ];
        foreach (var request in requests)
        {
            var rejected = Assert.IsType<CommandRejected>(Request(request));
            Assert.Equal(RejectionCode.NoSuchVm, rejected.Code);
            Assert.Contains("'ghost'", rejected.Reason);
        }

        Assert.Equal(["a"], VmIds());
    }

    [Fact]
    public void A_request_for_an_unknown_vCPU_is_rejected_naming_it()
    {
        CreateVm("a", vcpus: 2);
        foreach (var vcpu in new[] { 2, 7, -1 })
        {
            object[] requests =
            [
                new GuestAccess("a", vcpu, 0, AccessKind.Write, 0),
                new GuestAccessBatch("a", vcpu, [0], [AccessKind.Write], null, true),
                new GuestProtectMemory("a", vcpu, Guid.NewGuid(), [[Gfns(0, 1, R)]], 0),
                new GuestLockCr("a", vcpu, Guid.NewGuid(), 0, Cr0Wp, 0, 0),
                new GuestHypercall("a", vcpu, Guid.NewGuid(), 99, 0, 0, 0, 0),
                new GuestWriteCr("a", vcpu, Guid.NewGuid(), 0, 0),
                new GuestReadCr("a", vcpu, 0),
                new CrashVcpu("a", vcpu, "x"),
            ];
            foreach (var request in requests)
            {
                var rejected = Assert.IsType<CommandRejected>(Request(request));
                Assert.Equal(RejectionCode.NoSuchVcpu, rejected.Code);
                Assert.Contains($"vCPU {vcpu}", rejected.Reason);
                Assert.Contains("'a'", rejected.Reason);
            }
        }

        Assert.Equal(7UL, Permissions("a", 0));
        Assert.Equal(0UL, Status("a").Cr0Pins);
    }

    [Fact]
    public void Creating_an_existing_VM_is_rejected_and_leaves_it_as_it_was()
    {
        CreateVm("a", vcpus: 2);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R)));
        var rejected = Assert.IsType<CommandRejected>(
            Request(new CreateVm("a", Guid.NewGuid(), VmConfig.FromMegabytes(128, 4, profile: HekiProfile.HekiV2))));
        Assert.Equal(RejectionCode.VmExists, rejected.Code);
        Assert.Contains("'a'", rejected.Reason);
        var status = Status("a");
        Assert.Equal(2, status.Config.VcpuCount);
        Assert.Equal(HekiProfile.Hardened, status.Config.Profile);
        Assert.Equal(R, Permissions("a", 0x10));
        Assert.IsType<CommandRejected>(Request(new GuestReadCr("a", 3, 0)));
        Assert.Equal(RejectionCode.InvalidRequest, Assert.IsType<CommandRejected>(Request(new CreateVm("", Guid.NewGuid(), VmConfig.FromMegabytes(1, 1)))).Code);
        Assert.Equal(RejectionCode.NoSuchControlRegister, Assert.IsType<CommandRejected>(Request(new GuestReadCr("a", 0, 16))).Code);
    }

    [Fact]
    public void A_create_right_behind_a_destroy_gets_a_fresh_VM_with_its_vCPUs()
    {
        CreateVm("a", vcpus: 3);
        var probe = CreateTestProbe();

        // Sent together: the create waits for the destroy, and the new vCPUs must not trip over the old ones' names.
        for (var i = 0; i < 5; i++)
        {
            Vms.Tell(new DestroyVm("a", Guid.NewGuid()), probe.Ref);
            Vms.Tell(new CreateVm("a", Guid.NewGuid(), VmConfig.FromMegabytes(64, 3)), probe.Ref);
            probe.ExpectMsg<VmDestroyed>(Timeout);
            probe.ExpectMsg<VmCreated>(Timeout);
        }

        Assert.Equal(AccessResult.Ok, Access("a", 2, Gpa(0x10), AccessKind.Write));
    }

    [Fact]
    public async Task A_vCPU_message_from_an_actor_that_is_not_one_of_the_VMs_vCPUs_is_ignored()
    {
        // As a vCPU of a destroyed incarnation, stopping with its attach already sent: it gets no registers.
        CreateVm("a", vcpus: 2);
        var stray = CreateTestProbe();
        var entity = await Sys.ActorSelection("/user/vms/" + Uri.EscapeDataString(Vm.VmActor.PersistenceIdFor("a"))).ResolveOne(Timeout);
        entity.Tell(new VcpuAttach(0), stray.Ref);
        entity.Tell(new GetVmStatus("a"), stray.Ref);
        // The VM answers in order: a VcpuState for the attach would come before the status.
        stray.ExpectMsg<VmStatus>(Timeout);
    }

    [Fact]
    public void Destroying_then_recreating_a_VM_gives_fresh_state()
    {
        CreateVm("a", vcpus: 2, profile: HekiProfile.Hardened);
        CreateVm("b");
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x20, R | I)));
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));
        Assert.True(WriteCr("a", 1, 0, Cr0Wp | Cr0Pe));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));

        Assert.Equal(new VmDestroyed("a"), Request(new DestroyVm("a", Guid.NewGuid())));
        Assert.Equal(["b"], VmIds());
        Assert.IsType<CommandRejected>(Request(new GetPermissions("a", 0x10)));
        Assert.IsType<CommandRejected>(Request(new DestroyVm("a", Guid.NewGuid())));

        CreateVm("a", vcpus: 3, profile: HekiProfile.HekiV2);
        Assert.Equal(["a", "b"], VmIds());
        var status = Status("a");
        Assert.Equal(3, status.Config.VcpuCount);
        Assert.Equal(HekiProfile.HekiV2, status.Config.Profile);
        Assert.Equal(0UL, status.Cr0Pins);
        Assert.Equal(0, status.Runs);
        Assert.Equal(7UL, Permissions("a", 0x10));
        Assert.Equal(0UL, ReadCr("a", 1, 0));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Write));
        Assert.True(WriteCr("a", 1, 0, 0));
        Assert.Equal(0, Protect("a", 2, Gfns(0x10, 0x11, R)));
    }

    [Fact]
    public void A_duplicate_protect_is_answered_with_the_original_reply_and_applied_once()
    {
        CreateVm("a");
        var x = Guid.NewGuid();
        var y = Guid.NewGuid();
        Assert.Equal(0, ProtectList("a", 0, [[Gfns(0x10, 0x11, R | W)]], x));
        Assert.Equal(0, ProtectList("a", 1, [[Gfns(0x10, 0x11, R)]], y));
        Assert.Equal(0, ProtectList("a", 0, [[Gfns(0x10, 0x11, R | W)]], x));
        Assert.Equal(R, Permissions("a", 0x10));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));

        // The record, not a fresh evaluation: after an immutable protect, a resend of x still gets 0, not -EPERM.
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R | I)));
        var lines = CapturePrinted(() => Assert.Equal(0, ProtectList("a", 1, [[Gfns(0x10, 0x11, R | W)]], x)));
        Assert.Empty(lines);
        Assert.Equal(R | I, Permissions("a", 0x10));

        // And a failed request's resend gets its original error.
        var z = Guid.NewGuid();
        Assert.Equal(Errno.EINVAL, ProtectList("a", 0, [[Gfns(0x30, 0x31, 0)]], z));
        Assert.Equal(Errno.EINVAL, ProtectList("a", 0, [[Gfns(0x30, 0x31, R)]], z));
        Assert.Equal(7UL, Permissions("a", 0x30));
    }

    [Fact]
    public void A_duplicate_set_permissions_is_answered_with_the_original_reply_and_applied_once()
    {
        CreateVm("a");
        var x = Guid.NewGuid();
        Assert.Equal(0, SetPermissions("a", 0x10, 0x11, R | W, x));
        Assert.Equal(0, SetPermissions("a", 0x10, 0x11, R));
        Assert.Equal(0, SetPermissions("a", 0x10, 0x11, R | W, x));
        Assert.Equal(R, Permissions("a", 0x10));
    }

    [Fact]
    public void A_duplicate_lock_cr_is_answered_with_the_original_reply()
    {
        CreateVm("a");
        var x = Guid.NewGuid();
        Assert.Equal(1, LockCr("a", 0, 0, 0, flags: 1, requestId: x));
        Assert.Equal(1, LockCr("a", 0, 0, Cr0Wp, flags: 0, requestId: x));
        Assert.Equal(0UL, Status("a").Cr0Pins);
    }

    [Fact]
    public void A_duplicate_CR_write_is_answered_with_the_original_reply_and_applied_once()
    {
        CreateVm("a");
        var x = Guid.NewGuid();
        Assert.True(WriteCr("a", 1, 3, 0x1000, x));
        Assert.True(WriteCr("a", 1, 3, 0x2000));
        Assert.True(WriteCr("a", 1, 3, 0x1000, x));
        Assert.Equal(0x2000UL, ReadCr("a", 1, 3));
        // A resend through another vCPU changes nothing there either.
        Assert.True(WriteCr("a", 0, 3, 0x1000, x));
        Assert.Equal(0UL, ReadCr("a", 0, 3));

        // A refused write's resend gets the recorded refusal, even carrying a value a fresh write could set.
        Assert.Equal(0, LockCr("a", 0, 0, Cr0Wp));
        var refused = Guid.NewGuid();
        Assert.False(WriteCr("a", 1, 0, Cr0Pe, refused));
        Assert.False(WriteCr("a", 1, 0, Cr0Pe | Cr0Wp, refused));
        Assert.Equal(0UL, ReadCr("a", 1, 0));
    }
}

public class IdempotentLifecycleTests(ITestOutputHelper output) : ActorTestBase(output)
{
    [Fact]
    public void A_resent_create_vm_is_answered_as_created_and_applied_once()
    {
        var id = Guid.NewGuid();
        var config = VmConfig.FromMegabytes(64, 2);
        Assert.IsType<VmCreated>(Request(new CreateVm("dup", id, config)));
        Assert.Equal(0, Protect("dup", 0, new MemoryRange(4096, 8192, HekiAttributes.Read | HekiAttributes.Exec)));
        // The resend neither fails nor resets the VM.
        Assert.IsType<VmCreated>(Request(new CreateVm("dup", id, config)));
        Assert.Equal(HekiAttributes.Read | HekiAttributes.Exec, Request<PermissionsValue>(new GetPermissions("dup", 1)).Attr);
        // A different create for the same id is still refused.
        Assert.IsType<CommandRejected>(Request(new CreateVm("dup", Guid.NewGuid(), config)));
    }

    [Fact]
    public void A_resent_destroy_vm_is_answered_as_destroyed_and_does_not_touch_a_new_incarnation()
    {
        var destroyId = Guid.NewGuid();
        CreateVm("gone");
        Assert.IsType<VmDestroyed>(Request(new DestroyVm("gone", destroyId)));
        Assert.IsType<VmDestroyed>(Request(new DestroyVm("gone", destroyId)));
        CreateVm("gone");
        Assert.Equal(0, Protect("gone", 0, new MemoryRange(4096, 8192, HekiAttributes.Read)));
        // A resend arriving after re-creation is still the old request: answered, and the new VM lives on.
        Assert.IsType<VmDestroyed>(Request(new DestroyVm("gone", destroyId)));
        Assert.Equal(HekiAttributes.Read, Request<PermissionsValue>(new GetPermissions("gone", 1)).Attr);
    }
}
