using HekiActors.Memory;

namespace HekiActors.Simulation.Guest;

/// <summary>Builds each VM's guest kernel from a run's spec: the layout shared by every VM, the module choices per VM.</summary>
public static class GuestKernels
{
    /// <summary>The layout every VM of <paramref name="spec"/> shares (cached per kernel and guest size).</summary>
    public static KernelLayout Layout(SimulationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var pages = VmConfig.PagesOf(spec.MemoryMbPerVm);
        return spec.Guest.Package is { } package ? KernelLayout.ForImage(package, pages) : KernelLayout.For(pages);
    }

    /// <summary>The guest kernel of the VM whose seed is <paramref name="vmSeed"/>.</summary>
    public static GuestKernel Create(SimulationSpec spec, ulong vmSeed) =>
        new(Layout(spec), spec.VcpusPerVm, spec.Workload, spec.Guest, vmSeed, spec.Rounds);
}
