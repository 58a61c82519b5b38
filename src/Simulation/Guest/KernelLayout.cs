using System.Collections.Concurrent;
using HekiActors.Memory;

namespace HekiActors.Simulation.Guest;

/// <summary>One part of the guest kernel's memory: a gfn range [StartGfn, EndGfn) and the heki permissions it gets.</summary>
public readonly record struct KernelSection(string Name, ulong StartGfn, ulong EndGfn, ulong Permissions)
{
    public ulong Pages => EndGfn - StartGfn;

    public GfnRange Range => new(StartGfn, EndGfn);
}

/// <summary>
/// The guest kernel's physical memory layout for a VM of a given size, deterministic from the size: firmware
/// low memory, kernel text (R-X, immutable), rodata (R--, immutable), data and heap (RW-, with BPF JIT pages
/// R-X sprinkled through the heap), a module area filled at run time, and user pages (never protected).
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

    private static readonly ConcurrentDictionary<ulong, KernelLayout> Cache = new();

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
    }

    /// <summary>Guest memory in pages.</summary>
    public ulong MemoryPages { get; }

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

    /// <summary>The layout for a guest of <paramref name="memoryPages"/> pages (shared: it is immutable).</summary>
    public static KernelLayout For(ulong memoryPages) => Cache.GetOrAdd(memoryPages, static pages => new KernelLayout(pages));

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
