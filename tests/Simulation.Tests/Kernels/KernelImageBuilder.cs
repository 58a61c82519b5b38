using System.Buffers.Binary;
using System.IO.Compression;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>Builds the images the malformed-image tests feed the readers, and the temporary files they live in.</summary>
internal static class KernelImageBuilder
{
    /// <summary>
    /// A minimal bzImage: a boot sector and one setup sector carrying the boot-protocol header ("HdrS" at 0x202,
    /// version 2.15, payload_offset 0, payload_length), then <paramref name="payload"/> and the 4-byte
    /// decompressed size the kernel build appends, here <paramref name="declaredSize"/>.
    /// </summary>
    public static byte[] BzImage(byte[] payload, uint declaredSize)
    {
        var image = new byte[1024 + payload.Length + 4];
        image[0x1f1] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x1fe), 0xaa55);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x202), 0x53726448);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x206), 0x020f);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x248), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x24c), (uint)payload.Length + 4);
        payload.CopyTo(image, 1024);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(1024 + payload.Length), declaredSize);
        return image;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>The committed bomb: 64 MiB of zeros as the kernel build would compress them (Data/README.md).</summary>
    public static byte[] XzBomb() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Kernels", "Data", "zeros-64MiB.x86-lzma2.xz"));

    /// <summary>A copy of <paramref name="bytes"/> with <paramref name="patch"/> applied.</summary>
    public static byte[] Patched(byte[] bytes, Action<byte[]> patch)
    {
        var copy = (byte[])bytes.Clone();
        patch(copy);
        return copy;
    }
}

/// <summary>A temporary folder deleted at the end of a test.</summary>
internal sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"heki-kernels-{Guid.NewGuid():N}");

    public string Write(string name, byte[] bytes)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public string Write(string name, string text) => Write(name, System.Text.Encoding.UTF8.GetBytes(text));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
