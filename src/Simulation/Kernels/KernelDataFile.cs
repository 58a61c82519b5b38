using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace HekiActors.Simulation.Kernels;

/// <summary>
/// The text form of a <see cref="KernelPackage"/>: a kernel's section table and its modules' sizes, one record per
/// line, tab separated, so it can be shipped in the repository and reviewed in a diff. Written by
/// <c>heki kernel-data</c>; read for the shipped default guest and for <c>--kernel FILE</c> when FILE is such a file.
/// </summary>
/// <remarks>
/// <code>
/// # heki guest-kernel data 1
/// name    debian-6.1.0-47-amd64
/// source  linux-image-6.1.0-47-amd64 6.1.170-3 ...   (free text, any number of lines)
/// format  bzImage (xz)
/// entry   0x1000000
/// modules-available  4022
/// section NAME TYPE FLAGS ADDRESS PHYSICAL SIZE ALIGN   (TYPE as readelf names it, numbers in hex, PHYSICAL - when none)
/// module  NAME TEXT RODATA RO_AFTER_INIT DATA INIT      (bytes, decimal, whole pages)
/// </code>
/// Other lines starting with <c>#</c> and blank lines are skipped.
/// </remarks>
public static class KernelDataFile
{
    /// <summary>The first line of every such file.</summary>
    public const string Magic = "# heki guest-kernel data 1";

    /// <summary>At most this many lines (a kernel has tens of sections; a full module tree, thousands of modules).</summary>
    public const int MaxLines = 200_000;

    private static readonly (uint Type, string Name)[] TypeNames =
    [
        (0, "NULL"), (1, "PROGBITS"), (2, "SYMTAB"), (3, "STRTAB"), (4, "RELA"), (5, "HASH"), (6, "DYNAMIC"), (7, "NOTE"),
        (8, "NOBITS"), (9, "REL"), (11, "DYNSYM"), (14, "INIT_ARRAY"), (15, "FINI_ARRAY"), (16, "PREINIT_ARRAY"), (17, "GROUP"),
    ];

    /// <summary>True when <paramref name="firstLine"/> is this format's first line.</summary>
    public static bool IsKernelData(string? firstLine) => firstLine?.TrimEnd() == Magic;

    public static void Write(TextWriter writer, KernelPackage package)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(package);
        writer.WriteLine(Magic);
        writer.WriteLine("# section: name, type, sh_flags, virtual address, physical (load) address, size, alignment (hex)");
        writer.WriteLine("# module: name, then bytes of text, rodata, ro_after_init, data and init as the 6.1 module loader lays them out");
        writer.WriteLine($"name\t{package.Name}");
        foreach (var line in package.Provenance.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            writer.WriteLine($"source\t{line.TrimEnd('\r')}");
        writer.WriteLine($"format\t{package.Kernel.Format}");
        writer.WriteLine($"entry\t0x{package.Kernel.Entry:x}");
        writer.WriteLine($"modules-available\t{package.ModulesAvailable}");
        foreach (var s in package.Kernel.Sections)
        {
            var physical = s.PhysicalAddress is { } p ? $"0x{p:x}" : "-";
            writer.WriteLine($"section\t{s.Name}\t{TypeName(s.Type)}\t0x{s.Flags:x}\t0x{s.Address:x}\t{physical}\t0x{s.Size:x}\t0x{s.Alignment:x}");
        }

        foreach (var m in package.Modules)
            writer.WriteLine($"module\t{m.Name}\t{m.TextBytes}\t{m.RodataBytes}\t{m.RoAfterInitBytes}\t{m.DataBytes}\t{m.InitBytes}");
    }

    /// <summary>Reads a file written by <see cref="Write"/>; a malformed line gets an error naming <paramref name="source"/> and the line.</summary>
    public static bool TryRead(TextReader reader, string source, [NotNullWhen(true)] out KernelPackage? package, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(reader);
        package = null;
        var name = "";
        var provenance = new List<string>();
        var format = "kernel data";
        ulong entry = 0;
        var available = -1;
        var sections = new List<ElfSectionHeader>();
        var modules = new List<ModuleImage>();
        var number = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            if (number == 1 && !IsKernelData(line))
            {
                error = $"{source}: line 1: not a guest-kernel data file (expected \"{Magic}\")";
                return false;
            }

            if (number > MaxLines)
            {
                error = $"{source}: more than {MaxLines} lines";
                return false;
            }

            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var f = line.Split('\t');
            string? problem = null;
            switch (f[0])
            {
                case "name" when f.Length == 2 && f[1].Length > 0:
                    name = f[1];
                    break;
                case "source" when f.Length >= 2:
                    provenance.Add(string.Join('\t', f[1..]));
                    break;
                case "format" when f.Length == 2:
                    format = f[1];
                    break;
                case "entry" when f.Length == 2:
                    problem = Hex(f[1], "entry", out entry);
                    break;
                case "modules-available" when f.Length == 2:
                    if (!int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out available))
                        problem = $"modules-available \"{f[1]}\" is not a count";
                    break;
                case "section" when f.Length == 8:
                    problem = ParseSection(f, out var section);
                    if (section is not null)
                        sections.Add(section);
                    break;
                case "module" when f.Length == 7:
                    problem = ParseModule(f, out var module);
                    if (module is not null)
                        modules.Add(module);
                    break;
                default:
                    problem = $"unknown or incomplete record \"{Shorten(f[0])}\" ({f.Length} fields)";
                    break;
            }

            if (problem is not null)
            {
                error = $"{source}: line {number}: {problem}";
                return false;
            }
        }

        if (number == 0)
        {
            error = $"{source}: empty";
            return false;
        }

        if (name.Length == 0 || sections.Count == 0)
        {
            error = $"{source}: {(name.Length == 0 ? "no name line" : "no section lines")}";
            return false;
        }

        var kernel = new KernelImage(source, format, entry, sections);
        package = new KernelPackage(name, kernel, modules, string.Join('\n', provenance), available < 0 ? modules.Count : available);
        error = null;
        return true;
    }

    private static string? ParseSection(string[] f, out ElfSectionHeader? section)
    {
        section = null;
        if (!TryTypeFromName(f[2], out var type))
            return $"section {f[1]}: unknown type \"{Shorten(f[2])}\"";
        ulong? physical = null;
        if (f[5] != "-")
        {
            var bad = Hex(f[5], "physical address", out var p);
            if (bad is not null)
                return $"section {f[1]}: {bad}";
            physical = p;
        }

        ulong flags = 0, address = 0, size = 0, align = 0;
        var problem = Hex(f[3], "flags", out flags) ?? Hex(f[4], "address", out address)
            ?? Hex(f[6], "size", out size) ?? Hex(f[7], "alignment", out align);
        if (problem is not null)
            return $"section {f[1]}: {problem}";
        if (physical is { } start && size > ulong.MaxValue - start)
            return $"section {f[1]}: physical address 0x{start:x} plus size 0x{size:x} wraps around";
        section = new ElfSectionHeader(f[1], type, flags, address, physical, size, align);
        return null;
    }

    private static string? ParseModule(string[] f, out ModuleImage? module)
    {
        module = null;
        var sizes = new ulong[5];
        for (var i = 0; i < sizes.Length; i++)
        {
            if (!ulong.TryParse(f[i + 2], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] % ModuleImage.PageSize != 0
                || sizes[i] > 1UL << 40)
                return $"module {Shorten(f[1])}: \"{Shorten(f[i + 2])}\" is not a whole number of 4 KiB pages in bytes";
        }

        module = new ModuleImage(f[1], sizes[0], sizes[1], sizes[2], sizes[3], sizes[4]);
        return null;
    }

    private static string? Hex(string text, string what, out ulong value)
    {
        value = 0;
        return text.StartsWith("0x", StringComparison.Ordinal)
            && ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            ? null
            : $"{what} \"{Shorten(text)}\" is not a 0x-prefixed hexadecimal number";
    }

    private static string TypeName(uint type)
    {
        foreach (var (t, n) in TypeNames)
        {
            if (t == type)
                return n;
        }

        return $"0x{type:x}";
    }

    private static bool TryTypeFromName(string name, out uint type)
    {
        foreach (var (t, n) in TypeNames)
        {
            if (n == name)
            {
                type = t;
                return true;
            }
        }

        type = 0;
        return name.StartsWith("0x", StringComparison.Ordinal)
            && uint.TryParse(name.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out type);
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
