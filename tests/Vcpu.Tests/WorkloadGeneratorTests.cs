using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Vcpu.Tests;

/// <summary>The vCPU's workload generator over a spec built by hand (the kernel's own workloads are tested in Simulation.Tests).</summary>
public sealed class WorkloadGeneratorTests
{
    private static readonly WorkloadSpec Spec = new(
        WorkloadMix.Default,
        KernelExec: [new GfnRange(256, 300)],
        KernelRead: [new GfnRange(256, 400)],
        KernelWrite: [new GfnRange(350, 360), new GfnRange(370, 400)],
        User: [new GfnRange(1000, 1100)]);

    private static (ulong[] Gpas, AccessKind[] Kinds, byte[] Cpls) Generate(WorkloadSpec spec, ulong seed, int count)
    {
        var (gpas, kinds, cpls) = (new ulong[count], new AccessKind[count], new byte[count]);
        new WorkloadGenerator(spec, seed).Fill(gpas, kinds, cpls);
        return (gpas, kinds, cpls);
    }

    [Fact]
    public void Workload_from_an_equal_spec_and_seed_is_the_same_and_another_seed_differs()
    {
        var copy = Spec with { KernelRead = [.. Spec.KernelRead] };

        var first = Generate(Spec, 5, 20_000);
        var again = Generate(copy, 5, 20_000);
        var other = Generate(Spec, 6, 20_000);

        Assert.Equal(first.Gpas, again.Gpas);
        Assert.Equal(first.Kinds, again.Kinds);
        Assert.Equal(first.Cpls, again.Cpls);
        Assert.NotEqual(first.Gpas, other.Gpas);
    }

    [Fact]
    public void Workload_accesses_stay_in_their_class_regions()
    {
        var (gpas, kinds, cpls) = Generate(Spec, 11, 100_000);

        for (var i = 0; i < gpas.Length; i++)
        {
            var gfn = gpas[i] >> VmMemoryAttributes.PageShift;
            var regions = cpls[i] == 3 ? Spec.User
                : kinds[i] switch { AccessKind.Exec => Spec.KernelExec, AccessKind.Write => Spec.KernelWrite, _ => Spec.KernelRead };
            Assert.Contains(regions, r => r.Contains(gfn));
        }
    }

    [Fact]
    public void Workload_class_without_regions_falls_back_to_kernel_reads()
    {
        var spec = Spec with { KernelWrite = [], User = [new GfnRange(5, 5)] };

        var (gpas, _, _) = Generate(spec, 3, 50_000);

        Assert.All(gpas, gpa => Assert.InRange(gpa >> VmMemoryAttributes.PageShift, 256UL, 399UL));
    }

    [Fact]
    public void Workload_without_pages_to_read_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new WorkloadGenerator(Spec with { KernelRead = [] }, 1));
    }
}
