using ELFSharp.ELF;
using ELFSharp.ELF.Segments;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// Reads the section and program headers of an x86-64 ELF (a vmlinux or a relocatable module) through ELFSharp and
/// checks that they describe a file of that kind (class and type; <see cref="ElfSizeGuard"/> checks machine and sizes first).
/// </summary>
internal static class ElfHeaderReader
{
    /// <summary>The headers of one ELF file.</summary>
    internal sealed record Headers(FileType Type, ulong Entry, IReadOnlyList<ElfSectionHeader> Sections);

    /// <summary>
    /// Reads <paramref name="stream"/> (seekable, left open) as a 64-bit little-endian x86-64 ELF of type
    /// <paramref name="expected"/>. Throws <see cref="KernelImageFormatException"/> naming what is wrong.
    /// </summary>
    public static Headers Read(Stream stream, FileType expected)
    {
        try
        {
            return ReadWithLibrary(stream, expected);
        }
        catch (Exception ex) when (ex is not (KernelImageFormatException or OutOfMemoryException or IOException))
        {
            // ELFSharp meets a malformed file with whatever its parsing hits (index, cast, argument, overflow, ...):
            // within this call it is the file that is wrong, so it gets the file's error rather than a crash.
            throw new KernelImageFormatException($"malformed: its ELF headers cannot be read ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private static Headers ReadWithLibrary(Stream stream, FileType expected)
    {
        stream.Position = 0;
        var elfClass = ELFReader.CheckELFType(stream);
        if (elfClass == Class.NotELF)
            throw new KernelImageFormatException("not an ELF file (no \\x7fELF magic)");
        if (elfClass != Class.Bit64)
            throw new KernelImageFormatException("a 32-bit ELF: wrong architecture, only 64-bit x86-64 kernels are supported");
        ElfSizeGuard.Check(stream);
        if (!ELFReader.TryLoad<ulong>(stream, false, out var elf) || elf is null)
            throw new KernelImageFormatException("an ELF whose headers cannot be read");
        using (elf)
        {
            if (elf.Type != expected)
                throw new KernelImageFormatException($"an ELF of type {TypeName(elf.Type)}, expected {TypeName(expected)}");
            if (!elf.HasSectionHeader || elf.Sections.Count <= 1)
                throw new KernelImageFormatException("an ELF without section headers");

            var loads = new List<Segment<ulong>>();
            foreach (var segment in elf.Segments)
            {
                if (segment.Type == SegmentType.Load)
                    loads.Add(segment);
            }

            var sections = new List<ElfSectionHeader>(elf.Sections.Count - 1);
            for (var i = 1; i < elf.Sections.Count; i++)
            {
                var s = elf.Sections[i];
                var type = (uint)s.Type;
                var flags = s.RawFlags;
                ulong? physical = null;
                if ((flags & ElfSectionHeader.FlagAlloc) != 0)
                    physical = PhysicalAddress(loads, s.LoadAddress, s.Size);
                sections.Add(new ElfSectionHeader(s.Name, type, flags, s.LoadAddress, physical, s.Size, s.Alignment));
            }

            return new Headers(elf.Type, elf.EntryPoint, sections);
        }
    }

    /// <summary>The load address of [address, address+size): its offset in the PT_LOAD segment holding it plus the segment's p_paddr.</summary>
    private static ulong? PhysicalAddress(List<Segment<ulong>> loads, ulong address, ulong size)
    {
        foreach (var load in loads)
        {
            if (address >= load.Address && address - load.Address <= load.Size && size <= load.Size - (address - load.Address))
                return load.PhysicalAddress + (address - load.Address);
        }

        return null;
    }

    private static string TypeName(FileType type) => type switch
    {
        FileType.Relocatable => "REL (a relocatable object such as a .ko module)",
        FileType.Executable => "EXEC (an executable such as a vmlinux)",
        FileType.SharedObject => "DYN (a shared object)",
        FileType.Core => "CORE (a core dump)",
        _ => $"{(ushort)type}",
    };
}
