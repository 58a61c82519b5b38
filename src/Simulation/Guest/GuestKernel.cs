using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Guest;

/// <summary>
/// The Heki guest kernel of one VM, as plain code: which hypercalls and CR writes it makes at boot (its layout
/// protected through PROTECT_MEMORY list pages, CR0.WP and CR4.SMEP|SMAP pinned, CR0/CR4 set on every vCPU) and
/// between workload rounds (a module load, a permitted RW→R downgrade), and what its workload may touch.
/// The engine sends the operations and tells it what they returned.
/// </summary>
public sealed class GuestKernel
{
    // CR0: PE, MP, ET, NE, WP, AM, PG as Linux x86-64 runs; CR4: PAE, PGE, OSFXSR, OSXMMEXCPT, FSGSBASE, SMEP, SMAP.
    public const ulong BootCr0 = 0x1 | 0x2 | 0x10 | 0x20 | CrPinning.Cr0Wp | (1UL << 18) | (1UL << 31);
    public const ulong BootCr4 = (1UL << 5) | (1UL << 7) | (1UL << 9) | (1UL << 10) | CrPinning.Cr4FsGsBase
        | CrPinning.Cr4Smep | CrPinning.Cr4Smap;
    public const ulong Cr4Pin = CrPinning.Cr4Smep | CrPinning.Cr4Smap;

    private readonly WorkloadMix _mix;
    private readonly List<int> _loadedModules = [];
    private WorkloadSpec? _workload;

    public GuestKernel(KernelLayout layout, int vcpus, WorkloadMix mix)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfLessThan(vcpus, 1);
        Layout = layout;
        Vcpus = vcpus;
        _mix = mix ?? WorkloadMix.Default;
    }

    public KernelLayout Layout { get; }

    public int Vcpus { get; }

    public int ModulesLoaded => _loadedModules.Count;

    /// <summary>ro_after_init pages made read-only so far (from the start of <see cref="KernelLayout.RoAfterInit"/>).</summary>
    public ulong Downgraded { get; private set; }

    /// <summary>
    /// Contiguous sections with identical permissions coalesced into one range each, in address order, as the
    /// Heki guest builds its PROTECT_MEMORY list.
    /// </summary>
    public static MemoryRange[] Coalesce(IEnumerable<KernelSection> sections)
    {
        var ranges = new List<MemoryRange>();
        foreach (var section in sections.OrderBy(s => s.StartGfn))
        {
            if (section.EndGfn <= section.StartGfn)
                continue;
            var pa = section.StartGfn << VmMemoryAttributes.PageShift;
            var epa = section.EndGfn << VmMemoryAttributes.PageShift;
            if (ranges.Count > 0 && ranges[^1].Epa == pa && ranges[^1].Permissions == section.Permissions)
                ranges[^1] = ranges[^1] with { Epa = epa };
            else
                ranges.Add(new MemoryRange(pa, epa, section.Permissions));
        }

        return ranges.ToArray();
    }

    /// <summary>Packs ranges into list pages of at most <see cref="ProtectMemory.MaxRangesPerPage"/> (169), in order.</summary>
    public static MemoryRange[][] Pack(IReadOnlyList<MemoryRange> ranges)
    {
        var pages = new MemoryRange[(ranges.Count + ProtectMemory.MaxRangesPerPage - 1) / ProtectMemory.MaxRangesPerPage][];
        for (var p = 0; p < pages.Length; p++)
        {
            var from = p * ProtectMemory.MaxRangesPerPage;
            pages[p] = ranges.Skip(from).Take(Math.Min(ProtectMemory.MaxRangesPerPage, ranges.Count - from)).ToArray();
        }

        return pages;
    }

    /// <summary>The boot-time PROTECT_MEMORY list of a layout (shared between VMs of one size: never changed).</summary>
    public MemoryRange[][] BootListPages => BootLists.For(Layout);

    /// <summary>Boot, in order: protect the layout (vCPU 0), pin CR0.WP and CR4.SMEP|SMAP, then set CR0 and CR4 on every vCPU.</summary>
    public IReadOnlyList<GuestOperation> BootOperations()
    {
        var ops = new List<GuestOperation>
        {
            new ProtectOperation(0, BootListPages, 0),
            new LockCrOperation(0, 0, CrPinning.Cr0Wp),
            new LockCrOperation(0, 4, Cr4Pin),
        };
        for (var v = 0; v < Vcpus; v++)
        {
            ops.Add(new WriteCrOperation(v, 0, BootCr0));
            ops.Add(new WriteCrOperation(v, 4, BootCr4));
        }

        return ops;
    }

    /// <summary>
    /// The kernel's own changes before round <paramref name="round"/>'s attacks and workload: one ro_after_init page
    /// made read-only (while any is left) and one module loaded (while a slot is free). Report each result to
    /// <see cref="Completed"/> before asking for the next round.
    /// </summary>
    public IReadOnlyList<KernelEvent> EventsForRound(long round)
    {
        var events = new List<KernelEvent>(2);
        if (Downgraded < Layout.RoAfterInit.Length)
        {
            var gfn = Layout.RoAfterInit.Start + Downgraded;
            events.Add(new KernelEvent(KernelEventKind.Downgrade, (int)Downgraded,
                new ProtectOperation(0, [[Page(gfn, KernelLayout.DowngradedPermissions)]], 0)));
        }

        var slot = ModulesLoaded;
        if (slot < KernelLayout.ModuleSlots)
            events.Add(new KernelEvent(KernelEventKind.ModuleLoad, slot,
                new ProtectOperation(0, Pack(Coalesce(Layout.ModuleSections(slot))), 0)));
        return events;
    }

    /// <summary>Records what a kernel event returned; a module the host refused stays unloaded (its slot is skipped).</summary>
    public void Completed(KernelEvent ev, long ret)
    {
        switch (ev.Kind)
        {
            case KernelEventKind.Downgrade:
                // Either way the kernel treats the page as read-only from now on (heki-v2 returns 0 and ignores it).
                Downgraded++;
                break;
            case KernelEventKind.ModuleLoad:
                _loadedModules.Add(ret == 0 ? ev.Index : -1 - ev.Index);
                _workload = null;
                break;
        }
    }

    /// <summary>What the workload may touch now (rebuilt after a module load).</summary>
    public WorkloadSpec Workload => _workload ??= BuildWorkload();

    /// <summary>Pages the kernel has made read-only after init (the targets the downgrade-abuse attack writes to).</summary>
    public GfnRange DowngradedPages => new(Layout.RoAfterInit.Start, Layout.RoAfterInit.Start + Downgraded);

    private WorkloadSpec BuildWorkload()
    {
        var layout = Layout;
        var exec = new List<GfnRange> { layout.Text };
        var read = new List<GfnRange> { new(layout.Text.Start, layout.Heap.End) };
        // Writes avoid ro_after_init (made read-only one page at a time) and the JIT pages inside the heap.
        var write = new List<GfnRange>();
        var from = layout.Data.Start;
        foreach (var jit in layout.JitPages)
        {
            write.Add(new GfnRange(from, jit));
            from = jit + 1;
        }

        write.Add(new GfnRange(from, layout.Heap.End));
        foreach (var slot in _loadedModules.Where(s => s >= 0))
        {
            var sections = layout.ModuleSections(slot);
            exec.Add(sections[0].Range);
            read.Add(new GfnRange(sections[0].StartGfn, sections[2].EndGfn));
            write.Add(sections[2].Range);
        }

        return new WorkloadSpec(_mix, [.. exec], [.. read], [.. write], [layout.User]);
    }

    private static MemoryRange Page(ulong gfn, ulong permissions) =>
        new(gfn << VmMemoryAttributes.PageShift, (gfn + 1) << VmMemoryAttributes.PageShift, permissions);

    /// <summary>Boot lists per layout: 10,000 VMs of one size share one list.</summary>
    private static class BootLists
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<KernelLayout, MemoryRange[][]> Lists = new();

        public static MemoryRange[][] For(KernelLayout layout) => Lists.GetValue(layout, l => Pack(Coalesce(l.Sections)));
    }
}

/// <summary>A change the kernel makes at run time.</summary>
public sealed record KernelEvent(KernelEventKind Kind, int Index, ProtectOperation Operation);

/// <summary>The kinds of run-time kernel changes.</summary>
public enum KernelEventKind
{
    /// <summary>An ro_after_init page RW→R (a pure downgrade: heki-v2 silently ignores it).</summary>
    Downgrade,

    /// <summary>A module's text, rodata and data protected.</summary>
    ModuleLoad,
}
