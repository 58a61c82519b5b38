using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Guest;

/// <summary>Which modules load: a count chosen from the seed, or modules named in order.</summary>
/// <param name="Count">How many; for named modules, the number of names.</param>
/// <param name="Names">The modules by name (as the package names them), or null to choose <paramref name="Count"/> from the seed.</param>
public sealed record ModuleChoice(int Count, IReadOnlyList<string>? Names)
{
    public static readonly ModuleChoice None = new(0, null);

    public static ModuleChoice Counted(int count) => count >= 0 ? new(count, null) : throw new ArgumentOutOfRangeException(nameof(count));

    public static ModuleChoice Named(IReadOnlyList<string> names) => new(names.Count, names);

    /// <summary>"3", or "af_key, nf_nat".</summary>
    public override string ToString() => Names is null ? Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Join(", ", Names);
}

/// <summary>Which of the two kinds of guest a run boots by default; see <see cref="GuestKernelSpec.DefaultChoice"/>.</summary>
public enum DefaultGuest
{
    /// <summary>The synthetic layout (<see cref="KernelLayout.For"/>): a kernel that scales with the guest, 16 made-up modules.</summary>
    Synthetic,

    /// <summary>The shipped Debian 6.1 kernel (<see cref="ShippedKernels.Debian"/>) with its real module sizes.</summary>
    Debian,
}

/// <summary>
/// The guest kernel a simulation boots: the synthetic layout (no package), or a real kernel with the modules it loads
/// at boot and loads then unloads during the run. Immutable and shared by every VM of a run.
/// </summary>
/// <param name="Package">The real kernel and its modules; null for the synthetic layout.</param>
/// <param name="BootModules">Modules every VM loads during boot (they stay loaded).</param>
/// <param name="RunModules">
/// Modules each VM loads during the run, spread over the rounds (module i of N in round ⌊i·rounds/N⌋), each unloaded
/// one round after it loaded. Chosen from the VM's seed among those not loaded at boot when given as a count.
/// </param>
public sealed record GuestKernelSpec(KernelPackage? Package, ModuleChoice BootModules, ModuleChoice RunModules)
{
    /// <summary>
    /// The default guest of <c>heki simulate</c> when no --kernel is given: the shipped Debian 6.1 kernel's real
    /// sections (issue 15: "use it as the default guest instead of the synthetic layout"); it needs guests of at least
    /// 94 MiB, smaller ones name <c>--kernel synthetic</c>. Tests cover both values (GuestKernelSpecTests).
    /// </summary>
    public const DefaultGuest DefaultChoice = DefaultGuest.Debian;

    /// <summary>
    /// Modules the Debian guest loads at boot when it is the default. Few, so that a default run of 10,000 VMs stays
    /// lighter per VM than the synthetic guest's (docs/benchmarks.md): each module event is a journaled hypercall.
    /// </summary>
    public const int DefaultGuestBootModules = 2;

    /// <summary>Modules the Debian guest loads (and unloads a round later) during the run when it is the default.</summary>
    public const int DefaultGuestRunModules = 2;

    public static GuestKernelSpec Synthetic { get; } = new(null, ModuleChoice.None, ModuleChoice.None);

    /// <summary>The guest a run boots when its scenario names none (<see cref="DefaultChoice"/>).</summary>
    public static GuestKernelSpec Default => For(DefaultChoice);

    /// <summary>The default guest of each kind: synthetic, or Debian with 2 modules at boot and 2 loaded and unloaded during the run.</summary>
    public static GuestKernelSpec For(DefaultGuest which) => which switch
    {
        DefaultGuest.Synthetic => Synthetic,
        DefaultGuest.Debian => new(ShippedKernels.Debian, ModuleChoice.Counted(DefaultGuestBootModules), ModuleChoice.Counted(DefaultGuestRunModules)),
        _ => throw new ArgumentOutOfRangeException(nameof(which), which, "unknown default guest"),
    };

    /// <summary>Name of the kernel in reports.</summary>
    public string Name => Package?.Name ?? KernelLayout.SyntheticName;

    /// <summary>
    /// Checks that the choices fit the package (names exist, counts fit) and a guest of <paramref name="memoryMb"/> MiB
    /// holds the kernel; the message names what does not.
    /// </summary>
    public string? Problem(ulong memoryMb)
    {
        if (Package is null)
            return BootModules.Count > 0 || RunModules.Count > 0 ? "the synthetic guest has no real modules to load: give --kernel" : null;
        if (!ImageProtection.TryPlan(Package.Kernel, out var image, out var error))
            return error;
        var minimum = KernelLayout.MinimumPagesFor(image);
        if (memoryMb * Memory.VmConfig.PagesPerMiB < minimum)
            return $"the kernel {Package.Name} needs at least {(minimum + Memory.VmConfig.PagesPerMiB - 1) / Memory.VmConfig.PagesPerMiB} MiB of guest memory, got {memoryMb}";
        var available = Package.Modules.Count;
        var names = new HashSet<string>(Package.Modules.Select(m => m.Name), StringComparer.Ordinal);
        foreach (var choice in new[] { BootModules, RunModules })
        {
            if (choice.Names?.FirstOrDefault(n => !names.Contains(n)) is { } unknown)
                return $"no module named \"{unknown}\" among the kernel's {available} modules";
            if (choice.Names is { } listed && listed.Distinct(StringComparer.Ordinal).Count() != listed.Count)
                return $"module \"{listed.GroupBy(n => n).First(g => g.Count() > 1).Key}\" is named twice";
        }

        if (BootModules.Names is { } boot && RunModules.Names?.FirstOrDefault(boot.Contains) is { } both)
            return $"module \"{both}\" is named both to load at boot and during the run";
        if (BootModules.Count + RunModules.Count > available)
            return $"{BootModules.Count} modules at boot and {RunModules.Count} during the run, but the kernel has {available} modules";
        return null;
    }
}
