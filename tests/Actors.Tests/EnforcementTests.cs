using Akka.Event;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>§6: which guest accesses complete, fault or exit, in both profiles, and that no stale translation is used.</summary>
public class EnforcementTests(ITestOutputHelper output) : ActorTestBase(output)
{
    public static TheoryData<HekiProfile> Profiles => new() { HekiProfile.Hardened, HekiProfile.HekiV2 };

    private static readonly byte[] AllCpls = [0, 1, 2, 3];

    [Theory]
    [MemberData(nameof(Profiles))]
    public void A_write_to_a_page_without_W_faults_at_every_CPL(HekiProfile profile)
    {
        CreateVm("a", profile: profile);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x12, R | X)));
        foreach (var cpl in AllCpls)
        {
            Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write, cpl));
            Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x11) + 0xFFF, AccessKind.Write, cpl));
            Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x12), AccessKind.Write, cpl));
            Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x0F) + 0xFFF, AccessKind.Write, cpl));
            Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Read, cpl));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void With_MBEC_a_kernel_fetch_from_a_page_without_X_faults_and_a_CPL_3_fetch_does_not(HekiProfile profile)
    {
        CreateVm("a", mbec: true, profile: profile);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R | W)));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Exec, 0));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Exec, 1));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Exec, 2));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Exec, 3));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x11), AccessKind.Exec, 0));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Write, 0));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Without_MBEC_no_fetch_ever_faults_even_where_permissions_set_cleared_X(HekiProfile profile)
    {
        CreateVm("a", mbec: false, profile: profile);
        // The host's kvm_permissions_set does not force EXEC (only the hypercall does).
        Assert.Equal(0, SetPermissions("a", 0x10, 0x11, R | W));
        Assert.Equal(R | W, Permissions("a", 0x10));
        Assert.Equal(0, SetPermissions("a", 0x11, 0x12, W | I));
        foreach (var cpl in AllCpls)
        {
            Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Exec, cpl));
            Assert.Equal(AccessResult.Ok, Access("a", 0, Gpa(0x11), AccessKind.Exec, cpl));
        }

        // The write rule still applies on such a VM (a fresh page: heki-v2 would ignore RW -> R).
        Assert.Equal(0, SetPermissions("a", 0x12, 0x13, R));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x12), AccessKind.Write));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x12), AccessKind.Exec));
    }

    [Fact]
    public void HekiV2_never_enforces_READ()
    {
        CreateVm("a", mbec: true, profile: HekiProfile.HekiV2);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, W), Gfns(0x11, 0x12, I)));
        foreach (var cpl in AllCpls)
        {
            Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Read, cpl));
            Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x11), AccessKind.Read, cpl));
        }

        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x11), AccessKind.Write));
    }

    [Fact]
    public void Hardened_enforces_READ_at_every_CPL_with_a_read_fault_warning()
    {
        CreateVm("a", mbec: true, profile: HekiProfile.Hardened);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, W), Gfns(0x11, 0x12, I)));
        foreach (var cpl in AllCpls)
        {
            Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Read, cpl));
            Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x11), AccessKind.Read, cpl));
        }

        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x12), AccessKind.Read));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x10), AccessKind.Write));
        EventFilter.Warning(message: "heki: Creating read #PF at 0x0000000000010abc GFN=10").ExpectOne(() =>
        {
            Assert.Equal(AccessResult.PageFault, Access("a", 0, 0x10ABC, AccessKind.Read));
            FlushWarnings();
        });
    }

    [Fact]
    public void HekiV2_treats_a_page_with_only_PRIVATE_as_no_access_while_hardened_gives_it_RWX()
    {
        CreateVm("v2", mbec: true, privateMemory: true, profile: HekiProfile.HekiV2);
        CreateVm("hard", mbec: true, privateMemory: true, profile: HekiProfile.Hardened);
        foreach (var vm in new[] { "v2", "hard" })
        {
            Assert.Equal(AccessResult.Ok, Access(vm, 1, Gpa(0x10), AccessKind.Write));
            Assert.Equal(0, SetMemoryAttributes(vm, Gpa(0x10), 0x1000, HekiAttributes.KvmPrivate));
            Assert.Equal(HekiAttributes.KvmPrivate, Attributes(vm, 0x10));
        }

        Assert.Equal(0UL, Permissions("v2", 0x10));
        Assert.Equal(AccessResult.PageFault, Access("v2", 1, Gpa(0x10), AccessKind.Write));
        Assert.Equal(AccessResult.PageFault, Access("v2", 1, Gpa(0x10), AccessKind.Exec));
        Assert.Equal(AccessResult.Ok, Access("v2", 1, Gpa(0x10), AccessKind.Read));

        Assert.Equal(7UL, Permissions("hard", 0x10));
        Assert.Equal(AccessResult.Ok, Access("hard", 1, Gpa(0x10), AccessKind.Write));
        Assert.Equal(AccessResult.Ok, Access("hard", 1, Gpa(0x10), AccessKind.Exec));
        Assert.Equal(AccessResult.Ok, Access("hard", 1, Gpa(0x10), AccessKind.Read));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void An_access_at_or_above_guest_memory_is_an_MMIO_exit_not_a_fault(HekiProfile profile)
    {
        CreateVm("a", memoryMb: 1, profile: profile);
        var end = 1UL << 20;
        Assert.Equal(0, Protect("a", 0, Gfns(0xF0, 0x100, I)));
        FlushWarnings(); // the protect's own "Request to protect" line is printed before the capture starts
        var lines = CapturePrinted(() =>
        {
            foreach (var kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Exec })
            {
                Assert.Equal(AccessResult.Mmio, Access("a", 1, end, kind));
                Assert.Equal(AccessResult.Mmio, Access("a", 1, end + 0x123456, kind, 3));
                Assert.Equal(AccessResult.Mmio, Access("a", 1, ulong.MaxValue, kind));
            }
        });
        Assert.Empty(lines);
        Assert.Equal(AccessResult.PageFault, Access("a", 1, end - 1, AccessKind.Write));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0xEF), AccessKind.Write));
    }

    [Theory]
    [InlineData(AccessKind.Write, 0x12345UL, "heki: Creating write #PF at 0x0000000000012345 GFN=12")]
    [InlineData(AccessKind.Exec, 0x12000UL, "heki: Creating fetch #PF at 0x0000000000012000 GFN=12")]
    [InlineData(AccessKind.Write, 0x3FFF_FFFFUL, "heki: Creating write #PF at 0x000000003fffffff GFN=3ffff")]
    public void The_fault_warning_has_the_exact_kernel_text(AccessKind kind, ulong gpa, string text)
    {
        CreateVm("a", memoryMb: 1024, mbec: true);
        var gfn = gpa >> 12;
        Assert.Equal(0, Protect("a", 0, Gfns(gfn, gfn + 1, R)));
        EventFilter.Warning(message: text).ExpectOne(() =>
        {
            Assert.Equal(AccessResult.PageFault, Access("a", 1, gpa, kind));
            FlushWarnings();
        });
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void After_a_protect_returns_no_vcpu_uses_a_translation_cached_before_it(HekiProfile profile)
    {
        CreateVm("a", vcpus: 3, mbec: true, profile: profile);
        // Warm every vCPU's cache with the default RWX run covering the page.
        for (var v = 0; v < 3; v++)
        {
            Assert.Equal(AccessResult.Ok, Access("a", v, Gpa(0x10), AccessKind.Write));
            Assert.Equal(AccessResult.Ok, Access("a", v, Gpa(0x10), AccessKind.Exec));
        }

        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R)));
        // Another vCPU, then the protecting vCPU itself.
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));
        Assert.Equal(AccessResult.PageFault, Access("a", 2, Gpa(0x10), AccessKind.Exec));
        Assert.Equal(AccessResult.PageFault, Access("a", 0, Gpa(0x10), AccessKind.Write));
        // Pages beside it keep their permissions.
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x11), AccessKind.Write));

        // Loosening is seen as well (heki-v2 applies it because W is not yet present).
        Assert.Equal(0, Protect("a", 1, Gfns(0x10, 0x11, R | W | X)));
        Assert.Equal(AccessResult.Ok, Access("a", 0, Gpa(0x10), AccessKind.Write));
        Assert.Equal(AccessResult.Ok, Access("a", 2, Gpa(0x10), AccessKind.Exec));
    }

    [Fact]
    public void After_a_host_permissions_set_returns_no_vcpu_uses_a_translation_cached_before_it()
    {
        CreateVm("a", vcpus: 2);
        Assert.Equal(AccessResult.Ok, Access("a", 0, Gpa(0x300), AccessKind.Write));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x300), AccessKind.Write));
        Assert.Equal(0, SetPermissions("a", 0x300, 0x301, R | X));
        Assert.Equal(AccessResult.PageFault, Access("a", 0, Gpa(0x300), AccessKind.Write));
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x300), AccessKind.Write));
        Assert.Equal(0, SetPermissions("a", 0x300, 0x301, 0));
        Assert.Equal(AccessResult.Ok, Access("a", 1, Gpa(0x300), AccessKind.Write));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void A_batch_reporting_each_access_gives_the_same_answers_as_single_accesses(HekiProfile profile)
    {
        CreateVm("a", vcpus: 3, memoryMb: 4, mbec: true, profile: profile);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x12, R), Gfns(0x12, 0x14, W), Gfns(0x14, 0x16, R | X), Gfns(0x16, 0x18, I)));

        var random = new Random(1234);
        const int count = 400;
        var gpas = new ulong[count];
        var kinds = new AccessKind[count];
        var cpls = new byte[count];
        for (var i = 0; i < count; i++)
        {
            // Mostly the protected pages and their neighbours, some MMIO.
            gpas[i] = i % 17 == 0 ? (4UL << 20) + (ulong)random.Next(0, 1 << 20) : Gpa((ulong)random.Next(0x0E, 0x1A)) + (ulong)random.Next(0, 4096);
            kinds[i] = (AccessKind)random.Next(0, 3);
            cpls[i] = (byte)random.Next(0, 4);
        }

        var singles = new AccessResult[count];
        for (var i = 0; i < count; i++)
            singles[i] = Access("a", 1, gpas[i], kinds[i], cpls[i]);
        Assert.Contains(AccessResult.Ok, singles);
        Assert.Contains(AccessResult.PageFault, singles);
        Assert.Contains(AccessResult.Mmio, singles);

        // A cold vCPU (misses mid-batch) and the warm one give the same answers.
        foreach (var vcpu in new[] { 2, 1 })
        {
            var done = Request<GuestAccessBatchDone>(new GuestAccessBatch("a", vcpu, gpas, kinds, cpls, ReportEach: true));
            Assert.NotNull(done.Results);
            Assert.Equal(singles, done.Results);
            Assert.Equal(singles.Count(r => r == AccessResult.Ok), done.Permitted);
            Assert.Equal(singles.Count(r => r == AccessResult.PageFault), done.Faulted);
            Assert.Equal(singles.Count(r => r == AccessResult.Mmio), done.Mmio);
        }

        // Without ReportEach the counts are the same and no per-access array is sent.
        var counts = Request<GuestAccessBatchDone>(new GuestAccessBatch("a", 0, gpas, kinds, cpls, ReportEach: false));
        Assert.Null(counts.Results);
        Assert.Equal(singles.Count(r => r == AccessResult.PageFault), counts.Faulted);
    }

    [Fact]
    public void A_batch_without_CPLs_runs_every_access_at_CPL_0()
    {
        CreateVm("a", mbec: true);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R | W)));
        var done = Request<GuestAccessBatchDone>(new GuestAccessBatch("a", 1, [Gpa(0x10), Gpa(0x10)], [AccessKind.Exec, AccessKind.Write], null, true));
        Assert.Equal([AccessResult.PageFault, AccessResult.Ok], done.Results!);
    }
}
