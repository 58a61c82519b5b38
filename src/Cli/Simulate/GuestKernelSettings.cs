using System.Globalization;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// The guest kernel as a scenario file (<c>kernel:</c>) or the command line (<c>--kernel</c>, <c>--modules</c>,
/// <c>--boot-modules</c>, <c>--run-modules</c>) names it, before any file is read; options replace a file's keys one by
/// one. <see cref="ApplyTo"/> reads the kernel and its modules and puts the result in the scenario's spec.
/// </summary>
public sealed record GuestKernelSettings
{
    /// <summary>The name that picks the synthetic layout.</summary>
    public const string SyntheticName = KernelLayout.SyntheticName;

    /// <summary>Short name for the shipped Debian kernel (its full name works too).</summary>
    public const string DebianAlias = "debian";

    /// <summary>Modules each VM of a named real kernel loads at boot unless --boot-modules says otherwise.</summary>
    public const int BootModulesUnlessNamed = 8;

    /// <summary>Modules each VM of a named real kernel loads (and unloads) during the run unless --run-modules says otherwise.</summary>
    public const int RunModulesUnlessNamed = 10;

    /// <summary>A kernel: <c>synthetic</c>, <c>debian</c> (or its full name), or a path to a bzImage, ELF vmlinux or guest-kernel data file.</summary>
    public string? Image { get; init; }

    /// <summary>Its modules: a folder, one module, or a list of module paths.</summary>
    public string? Modules { get; init; }

    public ModuleChoice? BootModules { get; init; }

    public ModuleChoice? RunModules { get; init; }

    /// <summary>These settings with every key <paramref name="over"/> sets replaced by its value.</summary>
    public GuestKernelSettings With(GuestKernelSettings over) => new()
    {
        Image = over.Image ?? Image,
        Modules = over.Modules ?? Modules,
        BootModules = over.BootModules ?? BootModules,
        RunModules = over.RunModules ?? RunModules,
    };

    /// <summary>
    /// Lays <paramref name="options"/> over the scenario's kernel settings, reads the kernel and modules they name and
    /// checks them against the scenario's memory: the scenario's spec then carries the guest. Every problem, including a
    /// kernel file that cannot be read, is a <see cref="UsageException"/> naming it.
    /// </summary>
    public static Scenario ApplyTo(Scenario scenario, GuestKernelSettings options)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        var settings = (scenario.Kernel ?? new GuestKernelSettings()).With(options);
        var guest = settings.Resolve();
        var problem = (guest ?? GuestKernelSpec.Default).Problem(scenario.Spec.MemoryMbPerVm);
        if (problem is not null)
            throw new UsageException(problem);
        return scenario with { Kernel = settings, Spec = scenario.Spec with { Kernel = guest } };
    }

    /// <summary>"8" → 8 modules chosen from the seed; "af_key,nf_nat" → those modules.</summary>
    public static ModuleChoice ParseChoice(string option, string text)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            return ModuleChoice.Counted(count);
        var names = text.Split(',', StringSplitOptions.TrimEntries);
        if (text.Length == 0 || names.Any(n => n.Length == 0 || n.Any(char.IsWhiteSpace)))
            throw new UsageException($"{option} {Expectations.ModuleChoice}, got {(text.Length == 0 ? "nothing" : text)}");
        return ModuleChoice.Named(names);
    }

    /// <summary>The guest these settings name; null when they name none (the run uses <see cref="GuestKernelSpec.Default"/>).</summary>
    private GuestKernelSpec? Resolve()
    {
        KernelPackage? package;
        switch (Image)
        {
            case null when Modules is null && BootModules is null && RunModules is null:
                return null;
            case null:
                package = GuestKernelSpec.Default.Package
                    ?? throw new UsageException("modules need a real kernel: give --kernel (a bzImage, an ELF vmlinux, a data file, or debian)");
                break;
            case SyntheticName:
                if (Modules is not null || BootModules is not null || RunModules is not null)
                    throw new UsageException("the synthetic guest has no real modules: --modules, --boot-modules and --run-modules need a real kernel");
                return GuestKernelSpec.Synthetic;
            case DebianAlias or ShippedKernels.DebianName:
                package = ShippedKernels.Debian;
                break;
            default:
                if (!KernelPackageReader.TryRead(Image, null, null, KernelImageLimits.Default, out package, out var error))
                    throw new UsageException(error);
                break;
        }

        if (Modules is not null)
        {
            if (!ModuleTree.TryFind(Modules, out var files, out var error))
                throw new UsageException(error);
            var modules = new List<ModuleImage>(files.Count);
            foreach (var file in files)
            {
                if (!KernelImageReader.TryReadModule(file, KernelImageLimits.Default, out var module, out error))
                    throw new UsageException(error);
                modules.Add(module);
            }

            package = package with { Modules = modules, ModulesAvailable = files.Count };
        }

        // Unless told otherwise, a real kernel loads 8 modules at boot and 10 more during the run (or what it has).
        var boot = BootModules ?? ModuleChoice.Counted(Math.Min(BootModulesUnlessNamed, package.Modules.Count));
        var run = RunModules ?? ModuleChoice.Counted(Math.Min(RunModulesUnlessNamed, Math.Max(0, package.Modules.Count - boot.Count)));
        return new GuestKernelSpec(package, boot, run);
    }
}
