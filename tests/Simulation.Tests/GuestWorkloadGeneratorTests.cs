using HekiActors.Memory;
using HekiActors.Vcpu.Enforcement;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Tests;

/// <summary>The workload generator: deterministic, follows the mix, stays where a well-behaved kernel may go.</summary>
public sealed class GuestWorkloadGeneratorTests
{
    private static readonly KernelLayout Layout = KernelLayout.For(64 * VmConfig.PagesPerMiB);

    private static (ulong[] Gpas, AccessKind[] Kinds, byte[] Cpls) Generate(WorkloadSpec workload, ulong seed, int count, int chunk = int.MaxValue)
    {
        var gpas = new ulong[count];
        var kinds = new AccessKind[count];
        var cpls = new byte[count];
        var generator = new WorkloadGenerator(workload, seed);
        for (var at = 0; at < count; at += chunk)
        {
            var n = Math.Min(chunk, count - at);
            generator.Fill(gpas.AsSpan(at, n), kinds.AsSpan(at, n), cpls.AsSpan(at, n));
        }

        return (gpas, kinds, cpls);
    }

    [Fact]
    public void Guest_workload_same_seed_gives_the_same_accesses_whatever_the_chunking()
    {
        var workload = new GuestKernel(Layout, 2, WorkloadMix.Default).Workload;

        var whole = Generate(workload, 42, 50_000);
        var chunked = Generate(workload, 42, 50_000, chunk: 4096);
        var other = Generate(workload, 43, 50_000);

        Assert.Equal(whole.Gpas, chunked.Gpas);
        Assert.Equal(whole.Kinds, chunked.Kinds);
        Assert.Equal(whole.Cpls, chunked.Cpls);
        Assert.NotEqual(whole.Gpas, other.Gpas);
    }

    [Fact]
    public void Guest_workload_follows_the_mix_and_locality()
    {
        var mix = new WorkloadMix(Read: 0.5, Write: 0.3, Exec: 0.2, UserMode: 0.25, Locality: 0.9);
        var workload = new GuestKernel(Layout, 2, mix).Workload;

        var (gpas, kinds, cpls) = Generate(workload, 7, 400_000);

        Assert.InRange(kinds.Count(k => k == AccessKind.Read) / 400_000.0, 0.47, 0.53);
        Assert.InRange(kinds.Count(k => k == AccessKind.Write) / 400_000.0, 0.27, 0.33);
        Assert.InRange(kinds.Count(k => k == AccessKind.Exec) / 400_000.0, 0.17, 0.23);
        Assert.InRange(cpls.Count(c => c == 3) / 400_000.0, 0.22, 0.28);
        Assert.All(cpls, c => Assert.True(c is 0 or 3));
        Assert.All(gpas, g => Assert.Equal(0UL, g % 8));
        // Locality: most accesses land within 4 KiB of the one before.
        var near = Enumerable.Range(1, gpas.Length - 1).Count(i => (long)gpas[i] - (long)gpas[i - 1] is > -4096 and < 4096);
        Assert.True(near > gpas.Length * 0.6, $"only {near} of {gpas.Length} accesses were near the previous one");
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, true)]
    [InlineData(HekiProfile.HekiV2, true)]
    [InlineData(HekiProfile.Hardened, false)]
    public void Guest_workload_of_a_well_behaved_kernel_never_faults(HekiProfile profile, bool mbec)
    {
        var kernel = new GuestKernel(Layout, 2, WorkloadMix.Default);
        var memory = new VmMemoryAttributes(profile);
        Assert.Equal(0, ProtectMemory.Apply(memory, kernel.BootListPages, mbec).Ret);
        for (var round = 0; round < 5; round++)
        {
            foreach (var ev in kernel.EventsForRound(round))
                kernel.Completed(ev, ProtectMemory.Apply(memory, ev.Operation.ListPages, mbec).Ret);
        }

        var (gpas, kinds, cpls) = Generate(kernel.Workload, 99, 200_000);

        for (var i = 0; i < gpas.Length; i++)
        {
            Assert.True(gpas[i] >> 12 < Layout.MemoryPages);
            var permissions = memory.PermissionsGet(gpas[i] >> 12);
            Assert.True(AccessRules.IsPermitted(permissions, kinds[i], cpls[i], mbec, profile),
                $"access {i}: {kinds[i]} at 0x{gpas[i]:x} (CPL {cpls[i]}) faults on permissions {permissions}");
        }

        // Module text is fetched once modules are loaded.
        var modules = new GfnRange(Layout.ModuleArea.Start, Layout.ModuleArea.End);
        Assert.Contains(Enumerable.Range(0, gpas.Length), i => kinds[i] == AccessKind.Exec && cpls[i] == 0 && modules.Contains(gpas[i] >> 12));
    }
}
