using System.IO.Compression;
using SharpCompress.Compressors.Xz;
using SharpCompress.Compressors.ZStandard;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// Decompresses a bzImage payload, or a compressed module, refusing any stream that would grow past its bound or
/// past the size the image declares (a decompression bomb): output, memory and time stay bounded by the limits.
/// </summary>
internal static class PayloadDecompressor
{
    /// <summary>The vmlinux inside a bzImage payload (at most <see cref="KernelImageLimits.MaxDecompressedBytes"/>).</summary>
    public static byte[] Decompress(byte[] image, BzImage.Payload payload, KernelImageLimits limits)
    {
        if (payload.Compression == PayloadCompression.None)
            return image.AsSpan(payload.Offset, payload.Length + 4).ToArray();
        if (payload.Compression is not (PayloadCompression.Xz or PayloadCompression.Gzip or PayloadCompression.Zstd))
            throw new KernelImageFormatException(
                $"its payload is compressed with {Name(payload.Compression)}, which this tool cannot read (supported: xz, gzip, zstd, none)");
        if (payload.DeclaredSize == 0)
            throw new KernelImageFormatException("its payload declares a decompressed size of 0 bytes");
        if (payload.DeclaredSize > limits.MaxDecompressedBytes)
            throw new KernelImageFormatException(
                $"its payload declares {payload.DeclaredSize} decompressed bytes, more than the limit of {limits.MaxDecompressedBytes}");

        using var input = new MemoryStream(image, payload.Offset, payload.Length, writable: false);
        var name = Name(payload.Compression);
        return Corrupt(name, () => payload.Compression == PayloadCompression.Xz
            ? XzWithBranchFilter(input, payload.DeclaredSize, name)
            : ReadExactly(Open(input, payload.Compression), payload.DeclaredSize, name));
    }

    /// <summary>A compressed module file's contents, at most <paramref name="maxBytes"/>.</summary>
    public static byte[] DecompressModule(Stream file, PayloadCompression compression, long maxBytes) =>
        Corrupt(Name(compression), () => DecompressBounded(file, compression, maxBytes));

    private static byte[] DecompressBounded(Stream file, PayloadCompression compression, long maxBytes)
    {
        using var stream = Open(file, compression);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (output.Length + n > maxBytes)
                throw new KernelImageFormatException(
                    $"it decompresses to more than the limit of {maxBytes} bytes (a decompression bomb?)");
            output.Write(buffer, 0, n);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Runs a decompression. The decoders meet corrupt data with whatever their parsing hits (their own format
    /// exceptions, index, argument, end of stream, ...): within this call it is the data that is wrong.
    /// </summary>
    private static byte[] Corrupt(string name, Func<byte[]> decompress)
    {
        try
        {
            return decompress();
        }
        catch (Exception ex) when (ex is not (KernelImageFormatException or OutOfMemoryException))
        {
            throw new KernelImageFormatException($"its {name} data is corrupt ({ex.GetType().Name}: {ex.Message})");
        }
    }

    public static string Name(PayloadCompression compression) => compression switch
    {
        PayloadCompression.Unknown => "an unknown method",
        _ => compression.ToString().ToLowerInvariant(),
    };

    private static Stream Open(Stream input, PayloadCompression compression) => compression switch
    {
        PayloadCompression.Gzip => new GZipStream(input, CompressionMode.Decompress, leaveOpen: true),
        PayloadCompression.Zstd => new DecompressionStream(input, 1 << 16, true, true),
        PayloadCompression.Xz => new XZStream(input),
        _ => throw new KernelImageFormatException($"compressed with {Name(compression)}, which this tool cannot read"),
    };

    /// <summary>
    /// The kernel's xz: BCJ x86 filter then LZMA2, CRC32 check. SharpCompress's x86 filter converts the whole
    /// buffer it is handed and keeps no look-ahead across calls, so chunked reads corrupt the calls that straddle a
    /// chunk boundary: the stream is read in one call into a buffer of exactly the declared size (its LZMA2 stage
    /// fills the whole request unless the stream ends first). The block CRC catches anything else, so an xz stream
    /// of several blocks with a BCJ filter, which kernel builds do not make, is refused as corrupt.
    /// </summary>
    private static byte[] XzWithBranchFilter(Stream input, uint declared, string name)
    {
        using var xz = new XZStream(input);
        var output = new byte[declared];
        var read = xz.Read(output, 0, output.Length);
        Finish(xz, read, declared, name);
        return output;
    }

    private static byte[] ReadExactly(Stream stream, uint declared, string name)
    {
        using (stream)
        {
            var output = new byte[declared];
            var read = stream.ReadAtLeast(output, output.Length, throwOnEndOfStream: false);
            Finish(stream, read, declared, name);
            return output;
        }
    }

    /// <summary>The stream gave exactly what was declared: not less (truncated), not more (a bomb).</summary>
    private static void Finish(Stream stream, int read, uint declared, string name)
    {
        if (read < declared)
            throw new KernelImageFormatException($"truncated: its {name} payload ends after {read} of the {declared} bytes it declares");
        if (stream.Read(new byte[1], 0, 1) > 0)
            throw new KernelImageFormatException(
                $"its {name} payload decompresses to more than the {declared} bytes it declares (a decompression bomb?)");
    }
}
