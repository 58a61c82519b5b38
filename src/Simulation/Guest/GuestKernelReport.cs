namespace HekiActors.Simulation.Guest;

/// <summary>
/// The guest kernel's own protections over one run (one profile): which kernel, what its boot protected and cost, what
/// module loads cost, and what unloads could not undo. Page counts are 4 KiB guest pages.
/// </summary>
/// <param name="Kernel">The kernel's name (<c>synthetic</c> or e.g. <c>debian-6.1.0-47-amd64</c>).</param>
/// <param name="Format">How it was read (<c>bzImage (xz)</c>, <c>shipped data</c>, ...); <c>synthetic</c> for the synthetic layout.</param>
/// <param name="BootModules">The boot-module choice as given (a count or names).</param>
/// <param name="RunModules">The run-module choice as given.</param>
/// <param name="Vms">VMs whose kernel reported (booted or not).</param>
/// <param name="UnprotectedBelowKernel">Guest pages below the kernel image, never protected (real kernels: RAM under the load address).</param>
/// <param name="InitPagesDropped">Init pages freed after boot and left unprotected (real kernels).</param>
/// <param name="ModuleAreaPages">Pages of each VM's module area.</param>
/// <param name="Counters">Every VM's counters summed.</param>
public sealed record GuestKernelReport(
    string Kernel,
    string Format,
    string BootModules,
    string RunModules,
    int Vms,
    ulong UnprotectedBelowKernel,
    ulong InitPagesDropped,
    ulong ModuleAreaPages,
    KernelCounters Counters)
{
    public long this[KernelCounter counter] => Counters[counter];

    /// <summary><paramref name="total"/> per boot (0 when nothing booted).</summary>
    public double PerBoot(KernelCounter total) => Counters[KernelCounter.Boots] == 0 ? 0 : (double)Counters[total] / Counters[KernelCounter.Boots];

    /// <summary><paramref name="total"/> per module load (0 when none loaded).</summary>
    public double PerModuleLoad(KernelCounter total) =>
        Counters[KernelCounter.ModuleLoads] == 0 ? 0 : (double)Counters[total] / Counters[KernelCounter.ModuleLoads];

    /// <summary>The report of a run of <paramref name="spec"/> from its VMs' counters summed.</summary>
    public static GuestKernelReport Of(SimulationSpec spec, KernelCounters counters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(counters);
        var guest = spec.Guest;
        var layout = GuestKernels.Layout(spec);
        var image = layout.Image;
        return new GuestKernelReport(
            guest.Name,
            guest.Package?.Kernel.Format ?? KernelLayout.SyntheticName,
            guest.BootModules.ToString(),
            guest.RunModules.ToString(),
            spec.Vms,
            image?.FirstGfn ?? KernelLayout.LowMemoryPages,
            image?.PagesOf(ImagePartKind.Init) ?? 0,
            layout.ModuleArea.Length,
            counters);
    }
}
