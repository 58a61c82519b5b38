using System.Buffers.Binary;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// Checks, before ELFSharp reads a file, the few ELF64 header fields that decide how much it allocates: ELFSharp
/// (like LibObjectFile) allocates <c>sh_size</c> bytes for every string table before reading it, so a 100 KB file
/// claiming a 2 GiB table would cost 2 GiB. Every section's bytes must lie inside the file, and the machine must be
/// x86-64 little-endian, or the file is refused with a message. Everything the product uses is then read by ELFSharp.
/// </summary>
internal static class ElfSizeGuard
{
    private const int HeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const ushort MachineX86_64 = 62;

    public static void Check(Stream stream)
    {
        var length = stream.Length;
        Span<byte> header = stackalloc byte[HeaderSize];
        stream.Position = 0;
        if (stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) < HeaderSize)
            throw new KernelImageFormatException($"truncated: {length} bytes, shorter than an ELF64 header");
        if (header[5] != 1)
            throw new KernelImageFormatException("a big-endian ELF: wrong architecture, only x86-64 kernels are supported");
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(header[0x12..]);
        if (machine != MachineX86_64)
            throw new KernelImageFormatException($"an ELF for {MachineName(machine)}, not x86-64: wrong architecture");

        var sectionTable = BinaryPrimitives.ReadUInt64LittleEndian(header[0x28..]);
        var entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3a..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3c..]);
        if (count == 0)
            throw new KernelImageFormatException("an ELF without section headers");
        if (entrySize != SectionHeaderSize)
            throw new KernelImageFormatException($"an ELF whose section headers are {entrySize} bytes each, not {SectionHeaderSize}");
        var tableBytes = (ulong)count * SectionHeaderSize;
        if (sectionTable > (ulong)length || tableBytes > (ulong)length - sectionTable)
            throw new KernelImageFormatException(
                $"truncated: its {count} section headers need bytes 0x{sectionTable:x}..0x{sectionTable + tableBytes:x} but the file has {length} bytes");

        var table = new byte[tableBytes];
        stream.Position = (long)sectionTable;
        stream.ReadExactly(table);
        for (var i = 1; i < count; i++)
        {
            var entry = table.AsSpan(i * SectionHeaderSize, SectionHeaderSize);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(entry[0x18..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(entry[0x20..]);
            if (type is ElfSectionHeader.NoBits or 0 || size == 0)
                continue;
            if (offset > (ulong)length || size > (ulong)length - offset)
                throw new KernelImageFormatException(
                    $"truncated: section header {i} of {count} needs bytes 0x{offset:x}..0x{offset + size:x} but the file has {length} bytes");
        }

        stream.Position = 0;
    }

    private static string MachineName(ushort machine) => machine switch
    {
        183 => "aarch64 (arm64)",
        40 => "arm",
        3 => "i386",
        243 => "riscv",
        21 => "ppc64",
        22 => "s390",
        _ => $"machine {machine}",
    };
}
