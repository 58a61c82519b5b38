using System.Diagnostics.CodeAnalysis;
using HekiActors.Memory;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Guest;

/// <summary>What a Heki guest does with one part of its kernel image once boot is over.</summary>
public enum ImagePartKind
{
    /// <summary>Kernel text: R-X, immutable (Linux maps it read-only and executable; mark_rodata_ro).</summary>
    Text,

    /// <summary>.rodata and the read-only sections after it up to __end_rodata: R--, immutable (mark_rodata_ro).</summary>
    Rodata,

    /// <summary>Writable data and bss: RW-, mutable.</summary>
    Data,

    /// <summary>Init code and data (and the per-CPU template), freed when boot ends (free_initmem): left unprotected.</summary>
    Init,
}

/// <summary>One run of consecutive sections of one kind, as whole guest pages [Start, End).</summary>
/// <param name="FirstSection">The first section of the run, for reports.</param>
/// <param name="LastSection">The last section of the run.</param>
public sealed record ImagePart(ImagePartKind Kind, GfnRange Pages, string FirstSection, string LastSection, int SectionCount);

/// <summary>
/// Which guest pages of a real x86-64 kernel image a Heki guest protects, and how, read from its section table:
/// every allocated section is placed at its physical (load) address, so guest RAM below the kernel stays unprotected.
/// </summary>
/// <remarks>
/// The rules follow what Linux itself does after boot (arch/x86/mm/init_64.c mark_rodata_ro, free_initmem,
/// arch/x86/kernel/vmlinux.lds.S), judged by position because flags do not tell (x86 links <c>.rodata</c> writable,
/// for ro_after_init data, and <c>__modver</c> too):
/// <list type="bullet">
/// <item>sections from the first one up to <c>.rodata</c> are text, protected whole pages up to the page holding their end;</item>
/// <item>sections from <c>.rodata</c> up to <c>.data</c> are read-only data (.rodata, __ksymtab*, __ex_table, .BTF, ...);</item>
/// <item>sections named <c>.init*</c>, <c>.exit*</c> or <c>.data..percpu</c> after <c>.data</c>, and every section between the first and
/// the last of those below <c>.bss</c>, are init: freed at the end of boot, so never protected;</item>
/// <item>every other allocated section after <c>.data</c> is writable data (.data, __bug_table, .orc_*, .smp_locks, .bss, .brk, ...).</item>
/// </list>
/// Page gaps between runs (text/rodata and rodata/data gaps, which Linux frees) stay unprotected.
/// Heki semantics §5: each run becomes one PROTECT_MEMORY range; adjacent runs of equal permissions coalesce.
/// </remarks>
public sealed record ImageProtection(IReadOnlyList<ImagePart> Parts)
{
    /// <summary>The pages of every part of <paramref name="kind"/>, in address order.</summary>
    public IEnumerable<ImagePart> Of(ImagePartKind kind) => Parts.Where(p => p.Kind == kind);

    /// <summary>Pages of <paramref name="kind"/> in total.</summary>
    public ulong PagesOf(ImagePartKind kind) => Of(kind).Aggregate(0UL, (sum, p) => sum + p.Pages.Length);

    /// <summary>The first gfn the image occupies: everything below is guest RAM the kernel does not protect.</summary>
    public ulong FirstGfn => Parts[0].Pages.Start;

    /// <summary>One past the last gfn the image occupies (init parts included).</summary>
    public ulong EndGfn => Parts.Max(p => p.Pages.End);

    /// <summary>Plans the protection of <paramref name="image"/>; an image without the sections the rules need gets an error naming it.</summary>
    public static bool TryPlan(KernelImage image, [NotNullWhen(true)] out ImageProtection? plan, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(image);
        plan = null;
        var placed = image.Sections
            .Where(s => s.IsAlloc && s.Size > 0 && s.PhysicalAddress is not null)
            .OrderBy(s => s.PhysicalAddress!.Value)
            .ToList();
        ElfSectionHeader? Find(string name) => placed.FirstOrDefault(s => s.Name == name);
        var rodata = Find(".rodata");
        var data = Find(".data");
        var text = Find(".text");
        var missing = text is null ? ".text" : rodata is null ? ".rodata" : data is null ? ".data" : null;
        if (missing is not null)
        {
            error = $"{image.Source}: no loadable {missing} section: not a Linux x86-64 kernel image this tool can lay out";
            return false;
        }

        if (!(text!.PhysicalAddress < rodata!.PhysicalAddress && rodata.PhysicalAddress < data!.PhysicalAddress))
        {
            error = $"{image.Source}: .text, .rodata and .data are not in that order in physical memory: not a layout this tool knows";
            return false;
        }

        var bss = Find(".bss");
        var initNamed = placed.Where(s => s.PhysicalAddress >= data.PhysicalAddress && IsInitName(s.Name)).ToList();
        var initBelowBss = initNamed.Where(s => bss is null || s.PhysicalAddress < bss.PhysicalAddress).ToList();
        var initStart = initBelowBss.Count == 0 ? ulong.MaxValue : initBelowBss.Min(s => s.PhysicalAddress!.Value);
        var initEnd = initBelowBss.Count == 0 ? 0 : initBelowBss.Max(s => s.PhysicalAddress!.Value + s.Size);

        ImagePartKind KindOf(ElfSectionHeader s)
        {
            var at = s.PhysicalAddress!.Value;
            if (at < rodata.PhysicalAddress)
                return ImagePartKind.Text;
            if (at < data.PhysicalAddress)
                return ImagePartKind.Rodata;
            return IsInitName(s.Name) || (at >= initStart && at + s.Size <= initEnd) ? ImagePartKind.Init : ImagePartKind.Data;
        }

        var parts = new List<ImagePart>();
        foreach (var section in placed)
        {
            var kind = KindOf(section);
            var start = section.PhysicalAddress!.Value >> VmMemoryAttributes.PageShift;
            var end = (section.PhysicalAddress.Value + section.Size + VmMemoryAttributes.PageSize - 1) >> VmMemoryAttributes.PageShift;
            if (parts.Count > 0 && parts[^1].Kind == kind)
            {
                var last = parts[^1];
                parts[^1] = last with
                {
                    Pages = new GfnRange(last.Pages.Start, Math.Max(last.Pages.End, end)),
                    LastSection = section.Name,
                    SectionCount = last.SectionCount + 1,
                };
            }
            else
            {
                parts.Add(new ImagePart(kind, new GfnRange(start, end), section.Name, section.Name, 1));
            }
        }

        // A page two runs share keeps the stricter kind's claim only where Linux would: text and rodata are page
        // aligned in every x86-64 build, so an overlap means an image this tool does not understand.
        for (var i = 1; i < parts.Count; i++)
        {
            if (parts[i].Pages.Start < parts[i - 1].Pages.End)
            {
                error = $"{image.Source}: sections {parts[i - 1].LastSection} ({parts[i - 1].Kind}) and {parts[i].FirstSection} ({parts[i].Kind}) share a page";
                return false;
            }
        }

        plan = new ImageProtection(parts);
        error = null;
        return true;
    }

    private static bool IsInitName(string name) =>
        name.StartsWith(".init", StringComparison.Ordinal) || name.StartsWith(".exit", StringComparison.Ordinal) || name == ".data..percpu";
}
