using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>
/// A VM booted from the package's bzImage through the actors: every page's permissions in its store equal what the
/// test derives itself from <c>readelf -S</c> and <c>readelf -l</c> of the same vmlinux.
/// </summary>
[Collection(DebianKernelCollection.Name)]
public sealed class DebianBootStoreTests(DebianKernelFixture kernel)
{
    private const ulong Rx = HekiAttributes.Read | HekiAttributes.Exec | HekiAttributes.Immutable;
    private const ulong R = HekiAttributes.Read | HekiAttributes.Immutable;
    private const ulong Rw = HekiAttributes.Read | HekiAttributes.Write;
    private const ulong Unprotected = 7;

    [SkippableFact]
    public async Task A_vm_booted_from_the_bzImage_has_the_store_readelf_says_it_should()
    {
        DebianKernelPackage.RequireReadelf();
        Assert.True(KernelImageReader.TryReadKernel(DebianKernelPackage.BzImage, KernelImageLimits.Default, out var image, out var error), error);
        var package = new KernelPackage("debian", image, [], "", 0);
        var guest = new GuestKernel(KernelLayout.ForImage(package, 256 * VmConfig.PagesPerMiB), 2, WorkloadMix.Default);
        var expected = ExpectedPermissions(DebianKernelPackage.Readelf("-S", "-W", kernel.VmlinuxPath), DebianKernelPackage.Readelf("-l", "-W", kernel.VmlinuxPath));

        await using var host = HekiHost.Start(new HekiHostOptions(AkkaLogLevel: "OFF", SystemName: "heki-debian-boot", WarningSink: new CountingWarningSink()));
        async Task<object> Send(ReplayRequest request) => await host.Ask(ReplayMessages.ToMessage(request, HekiProfile.Hardened, Guid.NewGuid()));
        Assert.IsType<VmCreated>(await Send(new CreateVmRequest("vm", 256, 2, Mbec: true, PrivateMemory: false)));
        foreach (var op in guest.BootOperations())
        {
            var reply = await Send(op.ToRequest("vm"));
            Assert.True(op.ResultOf(reply).Completed, $"{op} returned {reply}");
        }

        var end = expected.Keys.Max() + 256;
        var mismatches = new List<string>();
        for (var gfn = 0UL; gfn < end; gfn++)
        {
            var got = ((PermissionsValue)await Send(new GetPermissionsRequest("vm", gfn))).Attr;
            var want = expected.GetValueOrDefault(gfn, Unprotected);
            if (got != want && mismatches.Count < 10)
                mismatches.Add($"gfn 0x{gfn:x}: store {got}, readelf {want}");
        }

        Assert.Empty(mismatches);
        Assert.Equal(3586, expected.Count(e => e.Value == Rx));
        Assert.Equal(2279, expected.Count(e => e.Value == R));
    }

    /// <summary>
    /// Each page's permissions as Linux leaves the image after boot, from readelf alone: the load address of each
    /// allocated section from the LOAD segment holding it; text from _text to the page after the last section
    /// before .rodata (R-X); .rodata up to .data (R--, mark_rodata_ro); init code and data and the per-CPU template
    /// freed (free_initmem); everything else after .data read-write.
    /// </summary>
    private static Dictionary<ulong, ulong> ExpectedPermissions(string sectionTable, string programHeaders)
    {
        var loads = DebianKernelPackage.ReadelfLoads(programHeaders);
        var sections = DebianKernelPackage.ReadelfSections(sectionTable).Where(s => s.Flags.Contains('A'))
            .Select(s => (s.Name, s.Address, s.Size))
            .Where(s => s.Size > 0)
            .Select(s =>
            {
                var load = loads.Single(l => s.Address >= l.Virtual && s.Address + s.Size <= l.Virtual + l.MemorySize);
                return (s.Name, Start: load.Physical + (s.Address - load.Virtual), End: load.Physical + (s.Address - load.Virtual) + s.Size);
            })
            .OrderBy(s => s.Start).ToList();
        var rodata = sections.Single(s => s.Name == ".rodata").Start;
        var data = sections.Single(s => s.Name == ".data").Start;
        var freed = sections.Where(s => s.Start >= data && (s.Name.StartsWith(".init", StringComparison.Ordinal)
            || s.Name.StartsWith(".exit", StringComparison.Ordinal) || s.Name == ".data..percpu")).ToList();
        var bss = sections.Single(s => s.Name == ".bss").Start;
        var initBegin = freed.Where(s => s.Start < bss).Min(s => s.Start);
        var initEnd = freed.Where(s => s.Start < bss).Max(s => s.End);

        var pages = new Dictionary<ulong, ulong>();
        void Mark(ulong start, ulong end, ulong permissions)
        {
            for (var gfn = start >> 12; gfn < (end + 4095) >> 12; gfn++)
                pages[gfn] = permissions;
        }

        Mark(sections[0].Start, sections.Where(s => s.Start < rodata).Max(s => s.End), Rx);
        Mark(rodata, sections.Where(s => s.Start < data).Max(s => s.End), R);
        foreach (var s in sections.Where(s => s.Start >= data && !(s.Start >= initBegin && s.End <= initEnd) && !freed.Contains(s)))
            Mark(s.Start, s.End, Rw);
        return pages;
    }
}
