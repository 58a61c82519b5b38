namespace HekiActors.Simulation.Kernels;

/// <summary>
/// The guest kernels shipped inside the assembly as guest-kernel data files (src/Simulation/Kernels/Data), so a run
/// needs no kernel installed. Each is read once and shared: every VM of every run uses the same immutable value.
/// </summary>
public static class ShippedKernels
{
    /// <summary>Name of the Debian kernel the data was extracted from.</summary>
    public const string DebianName = "debian-6.1.0-47-amd64";

    private static readonly Lazy<KernelPackage> DebianData = new(() => Load(DebianName));

    /// <summary>
    /// Debian bookworm's linux-image-6.1.0-47-amd64 (6.1.170-3): its 38 sections and 200 of its 4,022 modules,
    /// extracted by <c>heki kernel-data</c> (docs/guest-kernels.md).
    /// </summary>
    public static KernelPackage Debian => DebianData.Value;

    private static KernelPackage Load(string name)
    {
        var resource = $"HekiActors.Simulation.Kernels.Data.{name}.txt";
        using var stream = typeof(ShippedKernels).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the shipped kernel data {resource} is missing from the assembly");
        using var reader = new StreamReader(stream);
        // The shipped file is ours and tested: failing to read it is a build defect, not bad user input.
        return KernelDataFile.TryRead(reader, $"shipped:{name}", out var package, out var error)
            ? package
            : throw new InvalidOperationException(error);
    }
}
