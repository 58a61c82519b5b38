using System.Buffers.Binary;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// The x86 boot protocol's view of a bzImage (Documentation/arch/x86/boot.rst): the real-mode setup header, and
/// the compressed payload that holds the ELF vmlinux.
/// </summary>
internal static class BzImage
{
    /// <summary>"HdrS" at offset 0x202 marks a boot-protocol setup header.</summary>
    private const int HeaderMagicOffset = 0x202;
    private const uint HeaderMagic = 0x53726448;
    private const int SetupSectsOffset = 0x1f1;
    private const int VersionOffset = 0x206;
    private const int PayloadOffsetOffset = 0x248;
    private const int PayloadLengthOffset = 0x24c;

    /// <summary>Boot protocol 2.08 added payload_offset and payload_length.</summary>
    private const ushort PayloadFieldsVersion = 0x0208;

    private static readonly byte[] XzMagic = [0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00];

    /// <summary>True when <paramref name="image"/> starts with a boot-protocol setup header.</summary>
    public static bool HasSetupHeader(ReadOnlySpan<byte> image) =>
        image.Length >= HeaderMagicOffset + 4 && BinaryPrimitives.ReadUInt32LittleEndian(image[HeaderMagicOffset..]) == HeaderMagic;

    /// <summary>
    /// The compressed payload: where the setup header says it is (protocol ≥ 2.08: after the setup sectors, at
    /// payload_offset, payload_length bytes), otherwise at the first xz magic after the setup sectors. The kernel's
    /// build appends the decompressed size as 4 little-endian bytes after the compressed stream (size_append in
    /// scripts/Makefile.lib): that is <see cref="Payload.DeclaredSize"/>.
    /// </summary>
    public static Payload FindPayload(ReadOnlySpan<byte> image)
    {
        var setupSects = image[SetupSectsOffset] == 0 ? 4 : image[SetupSectsOffset];
        var protectedMode = (setupSects + 1) * 512;
        var version = BinaryPrimitives.ReadUInt16LittleEndian(image[VersionOffset..]);
        if (protectedMode >= image.Length)
            throw new KernelImageFormatException(
                $"truncated: the setup header's setup_sects ({setupSects}) puts the kernel at byte {protectedMode} but the file has {image.Length} bytes");

        long offset, length;
        if (version >= PayloadFieldsVersion)
        {
            offset = protectedMode + (long)BinaryPrimitives.ReadUInt32LittleEndian(image[PayloadOffsetOffset..]);
            length = BinaryPrimitives.ReadUInt32LittleEndian(image[PayloadLengthOffset..]);
        }
        else
        {
            var at = image[protectedMode..].IndexOf(XzMagic);
            if (at < 0)
                throw new KernelImageFormatException($"boot protocol {version >> 8}.{version & 0xff} has no payload fields and no xz stream was found");
            offset = protectedMode + at;
            length = image.Length - offset;
        }

        if (length < 4 || offset > image.Length || length > image.Length - offset)
            throw new KernelImageFormatException(
                $"truncated: the setup header puts the payload at bytes {offset}..{offset + length} but the file has {image.Length} bytes");
        var payload = image.Slice((int)offset, (int)length);
        var declared = BinaryPrimitives.ReadUInt32LittleEndian(payload[^4..]);
        return new Payload(Identify(payload), (int)offset, (int)length - 4, declared);
    }

    private static PayloadCompression Identify(ReadOnlySpan<byte> payload) => payload switch
    {
        [0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00, ..] => PayloadCompression.Xz,
        [0x1f, 0x8b, ..] => PayloadCompression.Gzip,
        [0x7f, (byte)'E', (byte)'L', (byte)'F', ..] => PayloadCompression.None,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => PayloadCompression.Zstd,
        [(byte)'B', (byte)'Z', (byte)'h', ..] => PayloadCompression.Bzip2,
        [0x5d, 0x00, 0x00, ..] => PayloadCompression.Lzma,
        [0x89, (byte)'L', (byte)'Z', (byte)'O', ..] => PayloadCompression.Lzo,
        [0x02, 0x21, 0x4c, 0x18, ..] => PayloadCompression.Lz4,
        _ => PayloadCompression.Unknown,
    };

    /// <summary>The compressed stream inside a bzImage: bytes [Offset, Offset+Length) of the file.</summary>
    /// <param name="DeclaredSize">The decompressed size the build appended after the stream (bytes).</param>
    public readonly record struct Payload(PayloadCompression Compression, int Offset, int Length, uint DeclaredSize);
}

/// <summary>The kernel's compression choices (CONFIG_KERNEL_*); only some can be read here.</summary>
internal enum PayloadCompression
{
    Unknown,
    None,
    Xz,
    Gzip,
    Zstd,
    Bzip2,
    Lzma,
    Lzo,
    Lz4,
}
