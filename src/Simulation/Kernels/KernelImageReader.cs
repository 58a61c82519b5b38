using System.Diagnostics.CodeAnalysis;
using HekiActors.Actors.Hosting;
using ELFSharp.ELF;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// Reads a guest kernel (a bzImage or an ELF vmlinux) and its modules (<c>.ko</c>, optionally compressed) into
/// <see cref="KernelImage"/> and <see cref="ModuleImage"/>. A file that is missing, truncated, not a kernel, for
/// another architecture, or a decompression bomb gets one message naming the file and what is wrong; nothing
/// throws for bad input, and what reading costs is bounded by <see cref="KernelImageLimits"/>.
/// </summary>
public static class KernelImageReader
{
    private const int SetupHeaderBytes = 0x260;

    /// <summary>Reads the kernel at <paramref name="path"/>: a bzImage (xz, gzip, zstd or uncompressed payload) or an x86-64 ELF vmlinux.</summary>
    public static bool TryReadKernel(string path, KernelImageLimits limits, [NotNullWhen(true)] out KernelImage? image, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        image = Guard(path, () => ReadKernel(path, limits), out error);
        return image is not null;
    }

    /// <summary>Reads the vmlinux inside the bzImage bytes <paramref name="bzImage"/> (named <paramref name="source"/> in messages) and returns it as ELF bytes.</summary>
    public static bool TryExtractVmlinux(byte[] bzImage, string source, KernelImageLimits limits, [NotNullWhen(true)] out byte[]? vmlinux, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(bzImage);
        ArgumentNullException.ThrowIfNull(limits);
        vmlinux = Guard(source, () => ExtractVmlinux(bzImage, limits), out error);
        return vmlinux is not null;
    }

    /// <summary>Reads the module at <paramref name="path"/>: <c>.ko</c>, <c>.ko.xz</c>, <c>.ko.gz</c> or <c>.ko.zst</c>, an x86-64 relocatable ELF.</summary>
    public static bool TryReadModule(string path, KernelImageLimits limits, [NotNullWhen(true)] out ModuleImage? module, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        module = Guard(path, () => ReadModule(path, limits), out error);
        return module is not null;
    }

    /// <summary>The module name modprobe would use for <paramref name="path"/>: the file name without <c>.ko[.xz|.gz|.zst]</c>, '-' as '_'.</summary>
    public static string ModuleName(string path)
    {
        var name = Path.GetFileName(path);
        foreach (var suffix in new[] { ".xz", ".gz", ".zst" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
                name = name[..^suffix.Length];
        }

        if (name.EndsWith(".ko", StringComparison.Ordinal))
            name = name[..^3];
        return name.Replace('-', '_');
    }

    private static KernelImage ReadKernel(string path, KernelImageLimits limits)
    {
        using var file = Open(path);
        var head = new byte[SetupHeaderBytes];
        var got = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got >= 4 && head[0] == 0x7f && head[1] == (byte)'E' && head[2] == (byte)'L' && head[3] == (byte)'F')
            return FromElf(path, "ELF vmlinux", file);
        if (!BzImage.HasSetupHeader(head.AsSpan(0, got)))
            throw new KernelImageFormatException("neither a bzImage (no \"HdrS\" boot-protocol header at 0x202) nor an ELF vmlinux");
        if (got < SetupHeaderBytes)
            throw new KernelImageFormatException($"truncated: {got} bytes, shorter than a bzImage setup header");
        var bytes = ReadAll(file, limits.MaxFileBytes);
        var payload = BzImage.FindPayload(bytes);
        var vmlinux = PayloadDecompressor.Decompress(bytes, payload, limits);
        using var elf = new MemoryStream(vmlinux, writable: false);
        return FromElf(path, $"bzImage ({PayloadDecompressor.Name(payload.Compression)})", elf);
    }

    private static byte[] ExtractVmlinux(byte[] bzImage, KernelImageLimits limits)
    {
        if (!BzImage.HasSetupHeader(bzImage))
            throw new KernelImageFormatException("not a bzImage (no \"HdrS\" boot-protocol header at 0x202)");
        return PayloadDecompressor.Decompress(bzImage, BzImage.FindPayload(bzImage), limits);
    }

    private static KernelImage FromElf(string path, string format, Stream elf)
    {
        var headers = ElfHeaderReader.Read(elf, FileType.Executable);
        var text = headers.Sections.FirstOrDefault(s => s.Name == ".text");
        if (text is null || !text.IsAlloc || !text.IsExec || text.PhysicalAddress is null)
            throw new KernelImageFormatException("an x86-64 ELF without a loadable .text section: not a kernel image");
        return new KernelImage(path, format, headers.Entry, headers.Sections);
    }

    private static ModuleImage ReadModule(string path, KernelImageLimits limits)
    {
        using var file = Open(path);
        if (file.Length > limits.MaxFileBytes)
            throw new KernelImageFormatException($"{file.Length} bytes, more than the limit of {limits.MaxFileBytes} for a module");
        var compression = Path.GetExtension(path) switch
        {
            ".xz" => PayloadCompression.Xz,
            ".gz" => PayloadCompression.Gzip,
            ".zst" => PayloadCompression.Zstd,
            _ => PayloadCompression.None,
        };
        using var elf = compression == PayloadCompression.None
            ? new MemoryStream(ReadAll(file, limits.MaxFileBytes), writable: false)
            : new MemoryStream(PayloadDecompressor.DecompressModule(file, compression, limits.MaxFileBytes), writable: false);
        var headers = ElfHeaderReader.Read(elf, FileType.Relocatable);
        var module = ModuleLoaderLayout.Compute(ModuleName(path), headers.Sections);
        if (module.CorePages + module.InitPages > MaxModulePages)
            throw new KernelImageFormatException(
                $"its sections add up to {(module.CorePages + module.InitPages) * ModuleImage.PageSize} bytes, more than the x86-64 module area holds");
        if (module.TextBytes == 0 && module.RodataBytes == 0 && module.DataBytes == 0)
            throw new KernelImageFormatException("a relocatable ELF with no allocated sections: not a kernel module");
        return module;
    }

    /// <summary>x86-64 MODULES_LEN (1,520 MiB) in pages: no module can be bigger.</summary>
    private const ulong MaxModulePages = (1520UL << 20) / ModuleImage.PageSize;

    private static FileStream Open(string path)
    {
        if (Directory.Exists(path))
            throw new KernelImageFormatException("is a directory, not a file");
        if (!File.Exists(path))
            throw new KernelImageFormatException("no such file");
        if (FileIdentity.SpecialKind(path) is { } kind)
            throw new KernelImageFormatException($"is {kind}, not a regular file");
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private static byte[] ReadAll(FileStream file, long maxBytes)
    {
        if (file.Length > maxBytes)
            throw new KernelImageFormatException($"{file.Length} bytes, more than the limit of {maxBytes}");
        var bytes = new byte[file.Length];
        file.Position = 0;
        file.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Runs a read; turns what a malformed file makes the readers or the libraries raise into a message naming the file.</summary>
    private static T? Guard<T>(string source, Func<T> read, out string? error)
        where T : class
    {
        try
        {
            error = null;
            return read();
        }
        catch (Exception ex) when (IsMalformedInput(ex))
        {
            error = $"{source}: {Describe(ex)}";
            return null;
        }
    }

    // The library calls convert what malformed data makes them raise (ElfHeaderReader, PayloadDecompressor); what is
    // left is the file system's. Anything else is a bug and is not caught.
    private static bool IsMalformedInput(Exception ex) => ex is KernelImageFormatException or IOException or UnauthorizedAccessException;

    private static string Describe(Exception ex) => ex switch
    {
        KernelImageFormatException => ex.Message,
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "cannot be read (permission denied)",
        EndOfStreamException => "truncated: a header or table runs past the end of the file",
        _ => $"cannot be read ({ex.Message})",
    };
}
