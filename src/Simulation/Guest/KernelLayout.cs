using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using HekiActors.Memory;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Guest;

/// <summary>One part of the guest kernel's memory: a gfn range [StartGfn, EndGfn) and the heki permissions it gets.</summary>
public readonly record struct KernelSection(string Name, ulong StartGfn, ulong EndGfn, ulong Permissions)
{
    public ulong Pages => EndGfn - StartGfn;

    public GfnRange Range => new(StartGfn, EndGfn);
}

/// <summary>
/// The guest kernel's physical memory layout for a VM of a given size, shared by every VM of that size (immutable).
/// Two kinds: the <b>synthetic</b> layout (<see cref="For"/>), deterministic from the size: firmware low memory,
/// kernel text (R-X, immutable), rodata (R--, immutable), data and heap (RW-, with BPF JIT pages R-X sprinkled
/// through the heap), a module area filled at run time, and user pages (never protected); and the layout of a
/// <b>real kernel image</b> (<see cref="ForImage"/>): its sections at their physical addresses (see
/// <see cref="ImageProtection"/>), then an unprotected kernel heap, a module area and user pages.
/// </summary>
public sealed class KernelLayout
{
    /// <summary>The first MiB (firmware, real-mode trampolines): never protected, never touched by the workload.</summary>
    public const ulong LowMemoryPages = 256;

    /// <summary>The smallest guest the layout fits in: 16 MiB.</summary>
    public const ulong MinimumPages = 16 * VmConfig.PagesPerMiB;

    /// <summary>Modules the kernel can load at run time.</summary>
    public const int ModuleSlots = 16;

    /// <summary>One BPF JIT image page (R-X, mutable) per this many heap pages (4 MiB): splits the heap into runs.</summary>
    public const ulong JitStride = 1024;

    public const ulong TextPermissions = HekiAttributes.Read | HekiAttributes.Exec | HekiAttributes.Immutable;
    public const ulong RodataPermissions = HekiAttributes.Read | HekiAttributes.Immutable;
    public const ulong DataPermissions = HekiAttributes.Read | HekiAttributes.Write;
    public const ulong JitPermissions = HekiAttributes.Read | HekiAttributes.Exec;

    /// <summary>A permitted downgrade: ro_after_init data becomes read-only (mutable, so a pure RW→R).</summary>
    public const ulong DowngradedPermissions = HekiAttributes.Read;

    /// <summary>Name of the synthetic layout in reports.</summary>
    public const string SyntheticName = "synthetic";

    private static readonly ConcurrentDictionary<ulong, KernelLayout> Cache = new();
    private static readonly ConditionalWeakTable<KernelPackage, ConcurrentDictionary<ulong, KernelLayout>> ImageCache = new();

    private KernelLayout(ulong memoryPages)
    {
        if (memoryPages < MinimumPages)
            throw new ArgumentOutOfRangeException(nameof(memoryPages), memoryPages, $"the kernel layout needs at least {MinimumPages} pages (16 MiB)");
        MemoryPages = memoryPages;

        // The kernel image scales with the guest (a 4 GiB guest gets a 16 MiB text), clamped to sane sizes.
        var k = Math.Clamp(memoryPages / 64, 64, 4096);
        var sections = new List<KernelSection>();
        var at = LowMemoryPages;
        KernelSection Add(string name, ulong pages, ulong permissions)
        {
            var section = new KernelSection(name, at, at + pages, permissions);
            sections.Add(section);
            at += pages;
            return section;
        }

        var head = Add(".head.text", 1, TextPermissions);
        Add(".text", k - 1 - k / 16, TextPermissions);
        var entry = Add(".entry.text", k / 16, TextPermissions);
        Text = new GfnRange(head.StartGfn, entry.EndGfn);
        var rodata = Add(".rodata", k / 2, RodataPermissions);
        var ksymtab = Add("__ksymtab", k / 16, RodataPermissions);
        Rodata = new GfnRange(rodata.StartGfn, ksymtab.EndGfn);
        RoAfterInit = Add(".data..ro_after_init", k / 8, DataPermissions).Range;
        var data = Add(".data", k / 2, DataPermissions);
        var bss = Add(".bss", k / 2, DataPermissions);
        Data = new GfnRange(data.StartGfn, bss.EndGfn);

        var heapPages = Math.Max(memoryPages / 8, 256);
        var heapStart = at;
        var heapEnd = heapStart + heapPages;
        var jit = new List<ulong>();
        for (var page = heapStart + JitStride / 2; page < heapEnd - 1; page += JitStride)
        {
            if (page > at)
                Add("heap", page - at, DataPermissions);
            Add("bpf_jit", 1, JitPermissions);
            jit.Add(page);
        }

        Add("heap", heapEnd - at, DataPermissions);
        Heap = new GfnRange(heapStart, heapEnd);
        JitPages = jit;
        Sections = sections;

        ModuleSlotPages = Math.Clamp(memoryPages / 512, 16, 512);
        ModuleArea = new GfnRange(heapEnd, heapEnd + ModuleSlotPages * ModuleSlots);
        User = new GfnRange(ModuleArea.End, memoryPages);
        if (User.IsEmpty)
            throw new ArgumentOutOfRangeException(nameof(memoryPages), memoryPages, "the kernel layout does not fit");

        Name = SyntheticName;
        DataRanges = [Data];
        ShellcodeTargets = [Heap];
        BaseExec = [Text];
        BaseRead = [new GfnRange(Text.Start, Heap.End)];
        // Writes avoid ro_after_init (made read-only one page at a time) and the JIT pages inside the heap.
        var write = ImmutableArray.CreateBuilder<GfnRange>();
        var from = Data.Start;
        foreach (var page in JitPages)
        {
            write.Add(new GfnRange(from, page));
            from = page + 1;
        }

        write.Add(new GfnRange(from, Heap.End));
        BaseWrite = write.ToImmutable();
    }

    private KernelLayout(KernelPackage package, ImageProtection image, ulong memoryPages)
    {
        MemoryPages = memoryPages;
        Package = package;
        Image = image;
        Name = package.Name;
        var sections = new List<KernelSection>();
        foreach (var part in image.Parts)
        {
            var permissions = part.Kind switch
            {
                ImagePartKind.Text => TextPermissions,
                ImagePartKind.Rodata => RodataPermissions,
                ImagePartKind.Data => DataPermissions,
                _ => 0UL,
            };
            if (permissions != 0)
                sections.Add(new KernelSection(part.FirstSection == part.LastSection ? part.FirstSection : $"{part.FirstSection}..{part.LastSection}",
                    part.Pages.Start, part.Pages.End, permissions));
        }

        Sections = sections;
        Text = Hull(image.Of(ImagePartKind.Text));
        Rodata = Hull(image.Of(ImagePartKind.Rodata));
        DataRanges = image.Of(ImagePartKind.Data).Select(p => p.Pages).ToArray();
        Data = Hull(image.Of(ImagePartKind.Data));
        // x86 keeps .data..ro_after_init inside .rodata: it is immutable by the time the guest protects anything,
        // so the kernel itself makes no run-time downgrades (its modules do: GuestKernel).
        RoAfterInit = new GfnRange(Rodata.End, Rodata.End);
        JitPages = [];

        var imageEnd = image.EndGfn;
        var free = memoryPages - Math.Min(memoryPages, imageEnd);
        Heap = new GfnRange(imageEnd, imageEnd + Math.Max(free / 8, 256));
        ModuleArea = new GfnRange(Heap.End, Heap.End + Math.Max(free / 8, ImageModuleAreaMinimumPages));
        User = new GfnRange(ModuleArea.End, Math.Max(ModuleArea.End, memoryPages));
        if (User.Length < 256 || memoryPages < MinimumPagesFor(image))
            throw new ArgumentOutOfRangeException(nameof(memoryPages), memoryPages,
                $"the kernel {package.Name} does not fit in {memoryPages} pages: use at least {MinimumPagesFor(image)}");

        ShellcodeTargets = DataRanges;
        BaseExec = [Text];
        BaseRead = [Text, Rodata, .. DataRanges, Heap];
        BaseWrite = [.. DataRanges, Heap];
    }

    /// <summary>An image's module area holds at least this many pages (16 MiB).</summary>
    public const ulong ImageModuleAreaMinimumPages = 4096;

    /// <summary>Guest memory in pages.</summary>
    public ulong MemoryPages { get; }

    /// <summary><see cref="SyntheticName"/>, or the real kernel's name.</summary>
    public string Name { get; }

    /// <summary>The real kernel and its modules; null for the synthetic layout.</summary>
    public KernelPackage? Package { get; }

    /// <summary>What of the real kernel image is protected, part by part; null for the synthetic layout.</summary>
    public ImageProtection? Image { get; }

    /// <summary>Writable kernel data (RW-), in address order: one range for the synthetic layout, one per run for an image.</summary>
    public IReadOnlyList<GfnRange> DataRanges { get; }

    /// <summary>Where the execute-data attack plants its shellcode: the heap (synthetic) or the kernel's .data and .bss runs (image).</summary>
    public IReadOnlyList<GfnRange> ShellcodeTargets { get; }

    /// <summary>What the workload may fetch, read and write before any module is loaded (shared by every VM).</summary>
    internal ImmutableArray<GfnRange> BaseExec { get; }

    internal ImmutableArray<GfnRange> BaseRead { get; }

    internal ImmutableArray<GfnRange> BaseWrite { get; }

    /// <summary>The sections protected at boot, in address order (adjacent ones may share permissions).</summary>
    public IReadOnlyList<KernelSection> Sections { get; }

    public GfnRange Text { get; }

    public GfnRange Rodata { get; }

    /// <summary>Data the kernel makes read-only after init, one page per kernel event (the permitted downgrades).</summary>
    public GfnRange RoAfterInit { get; }

    /// <summary>.data and .bss.</summary>
    public GfnRange Data { get; }

    /// <summary>The kernel heap, including its JIT pages.</summary>
    public GfnRange Heap { get; }

    public IReadOnlyList<ulong> JitPages { get; }

    public ulong ModuleSlotPages { get; }

    /// <summary>Where modules are loaded: unprotected (default RWX) until a module claims a slot.</summary>
    public GfnRange ModuleArea { get; }

    /// <summary>User pages: never protected by the kernel.</summary>
    public GfnRange User { get; }

    /// <summary>The synthetic layout for a guest of <paramref name="memoryPages"/> pages (shared: it is immutable).</summary>
    public static KernelLayout For(ulong memoryPages) => Cache.GetOrAdd(memoryPages, static pages => new KernelLayout(pages));

    /// <summary>
    /// The layout of <paramref name="package"/>'s kernel in a guest of <paramref name="memoryPages"/> pages, shared by
    /// every VM of that kernel and size. The package must have been checked with <see cref="ImageProtection.TryPlan"/>
    /// and the size with <see cref="MinimumPagesFor"/>.
    /// </summary>
    public static KernelLayout ForImage(KernelPackage package, ulong memoryPages)
    {
        ArgumentNullException.ThrowIfNull(package);
        var sizes = ImageCache.GetValue(package, static _ => new ConcurrentDictionary<ulong, KernelLayout>());
        return sizes.GetOrAdd(memoryPages, static (pages, p) =>
            ImageProtection.TryPlan(p.Kernel, out var plan, out var error)
                ? new KernelLayout(p, plan, pages)
                : throw new ArgumentException(error, nameof(package)), package);
    }

    /// <summary>
    /// The fewest guest pages an image's layout fits in: the image and 20 MiB after it (a heap of an eighth of the
    /// rest, at least 1 MiB; the module area, an eighth, at least 16 MiB; at least 1 MiB of user pages).
    /// </summary>
    public static ulong MinimumPagesFor(ImageProtection image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.EndGfn + 5 * VmConfig.PagesPerMiB * 4;
    }

    /// <summary>True for a BPF JIT page (executable on purpose), which the execute-data attack does not aim at.</summary>
    public bool IsJitPage(ulong gfn) =>
        JitPages.Count > 0 && Heap.Contains(gfn) && (gfn - Heap.Start) % JitStride == JitStride / 2;

    private static GfnRange Hull(IEnumerable<ImagePart> parts)
    {
        var list = parts.ToList();
        return list.Count == 0 ? default : new GfnRange(list.Min(p => p.Pages.Start), list.Max(p => p.Pages.End));
    }

    /// <summary>Module <paramref name="slot"/>'s text (R-X immutable), rodata (R-- immutable) and data (RW-).</summary>
    public IReadOnlyList<KernelSection> ModuleSections(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, ModuleSlots);
        var start = ModuleArea.Start + (ulong)slot * ModuleSlotPages;
        var text = ModuleSlotPages / 2;
        var rodata = ModuleSlotPages / 4;
        return
        [
            new KernelSection($"module{slot}.text", start, start + text, TextPermissions),
            new KernelSection($"module{slot}.rodata", start + text, start + text + rodata, RodataPermissions),
            new KernelSection($"module{slot}.data", start + text + rodata, start + ModuleSlotPages, DataPermissions),
        ];
    }
}
