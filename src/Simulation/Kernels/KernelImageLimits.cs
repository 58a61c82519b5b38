namespace HekiActors.Simulation.Kernels;

/// <summary>
/// Bounds on what reading one kernel image or module may cost, so a hostile or broken file is refused instead of
/// exhausting memory or time. Decompression time is linear in the input and output bytes, so bounding both bounds it.
/// </summary>
/// <param name="MaxFileBytes">Largest bzImage or module file read into memory (bytes). An ELF vmlinux is read in place.</param>
/// <param name="MaxDecompressedBytes">Largest vmlinux a bzImage payload may decompress to (bytes).</param>
public sealed record KernelImageLimits(long MaxFileBytes, long MaxDecompressedBytes)
{
    /// <summary>
    /// 128 MiB of bzImage or module, 512 MiB of decompressed vmlinux: a distribution kernel is 8–15 MiB compressed and
    /// 60–100 MiB decompressed (Debian 6.1: 7.9 MiB and 63 MiB), so both leave room for large configurations.
    /// </summary>
    public static KernelImageLimits Default { get; } = new(128L << 20, 512L << 20);
}
