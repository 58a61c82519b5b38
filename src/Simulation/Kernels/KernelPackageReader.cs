using System.Diagnostics.CodeAnalysis;
using HekiActors.Actors.Hosting;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// Builds a <see cref="KernelPackage"/> from what a user points the tool at: <c>--kernel PATH</c> (a bzImage, an ELF
/// vmlinux, or a guest-kernel data file) and optionally <c>--modules PATH</c> (a modules folder, one module, or a list).
/// </summary>
public static class KernelPackageReader
{
    /// <summary>
    /// Reads the kernel at <paramref name="kernelPath"/> and the modules <paramref name="modulesPath"/> names (when
    /// given), keeping <paramref name="sample"/> of them when set (see <see cref="Sample{T}"/>). A data file brings its
    /// own modules, replaced by <paramref name="modulesPath"/>'s when both are given. Errors name the file.
    /// </summary>
    public static bool TryRead(string kernelPath, string? modulesPath, int? sample, KernelImageLimits limits,
        [NotNullWhen(true)] out KernelPackage? package, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(kernelPath);
        ArgumentNullException.ThrowIfNull(limits);
        package = null;
        if (sample is < 1)
        {
            error = $"a module sample must be at least 1 (got {sample})";
            return false;
        }

        KernelPackage kernel;
        if (LooksLikeKernelData(kernelPath))
        {
            using var reader = new StreamReader(kernelPath);
            if (!KernelDataFile.TryRead(reader, kernelPath, out var data, out error))
                return false;
            kernel = data;
        }
        else
        {
            if (!KernelImageReader.TryReadKernel(kernelPath, limits, out var image, out error))
                return false;
            kernel = new KernelPackage(Path.GetFileName(kernelPath), image, [], $"{image.Format} {Path.GetFullPath(kernelPath)}", 0);
        }

        if (modulesPath is not null)
        {
            if (!ModuleTree.TryFind(modulesPath, out var files, out error))
                return false;
            var chosen = sample is { } n ? Sample(files, n) : files;
            var modules = new List<ModuleImage>(chosen.Count);
            foreach (var file in chosen)
            {
                if (!KernelImageReader.TryReadModule(file, limits, out var module, out error))
                    return false;
                modules.Add(module);
            }

            kernel = kernel with { Modules = modules, ModulesAvailable = files.Count };
        }
        else if (sample is { } n && n < kernel.Modules.Count)
        {
            kernel = kernel with { Modules = Sample(kernel.Modules, n) };
        }

        package = kernel;
        error = null;
        return true;
    }

    /// <summary>
    /// <paramref name="count"/> items spread evenly over <paramref name="items"/> (item ⌊i·N/count⌋ for i = 0..count-1),
    /// so a sample of a path-sorted module tree covers every subsystem in proportion; all of them when fewer.
    /// </summary>
    public static IReadOnlyList<T> Sample<T>(IReadOnlyList<T> items, int count)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (count >= items.Count)
            return items;
        var picked = new T[count];
        for (var i = 0; i < count; i++)
            picked[i] = items[(int)((long)i * items.Count / count)];
        return picked;
    }

    private static bool LooksLikeKernelData(string path)
    {
        // Not a regular file: the kernel reader says what it is, without opening it.
        if (!File.Exists(path) || FileIdentity.SpecialKind(path) is not null)
            return false;
        try
        {
            using var reader = new StreamReader(path);
            var first = new char[KernelDataFile.Magic.Length];
            var read = reader.ReadBlock(first, 0, first.Length);
            return read == first.Length && KernelDataFile.IsKernelData(new string(first));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
