using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using HekiActors.Vcpu.Workload;

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
    private readonly ModuleLifecycle? _modules;
    private readonly int _kernelBootOperations;
    private WorkloadSpec? _workload;

    /// <param name="spec">For a real kernel (<see cref="KernelLayout.Package"/> set): which modules load, chosen from <paramref name="vmSeed"/>.</param>
    /// <param name="rounds">The run's rounds, over which run modules are spread.</param>
    public GuestKernel(KernelLayout layout, int vcpus, WorkloadMix mix, GuestKernelSpec? spec = null, ulong vmSeed = 0, int rounds = 1)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfLessThan(vcpus, 1);
        Layout = layout;
        Vcpus = vcpus;
        _mix = mix ?? WorkloadMix.Default;
        _kernelBootOperations = 3 + 2 * vcpus;
        if (layout.Package is not null)
            _modules = new ModuleLifecycle(layout, spec ?? new GuestKernelSpec(layout.Package, ModuleChoice.None, ModuleChoice.None), vmSeed, rounds, Counters);
    }

    /// <summary>What this kernel's own protections cost and did (boot, modules, downgrades).</summary>
    public KernelCounters Counters { get; } = new();

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

    /// <summary>
    /// Boot, in order: protect the layout (vCPU 0), pin CR0.WP and CR4.SMEP|SMAP, then set CR0 and CR4 on every vCPU;
    /// a real kernel then loads its boot modules. Report each result to <see cref="BootCompleted"/>.
    /// </summary>
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

        if (_modules is not null)
            ops.AddRange(_modules.BootEvents.Select(ev => ev.Operation));
        return ops;
    }

    /// <summary>
    /// Takes over a VM that an earlier run left in a durable journal (<c>heki simulate --resume</c>) instead of booting it.
    /// The VM's boot protections and pins are in force already, so none of <see cref="BootOperations"/> is made: asking to
    /// protect an immutable page again is refused, and the kernel booted long ago. What the kernel knows of its own memory
    /// it reads back from the VM's <paramref name="protections"/>: the synthetic kernel's ro_after_init pages already made
    /// read-only (a leading run of them; <c>heki-v2</c> dropped those downgrades, so its kernel makes them again, which
    /// <c>heki-v2</c> answers 0 and drops again), and its module slots whose text is protected (loaded; a slot below the last
    /// loaded one whose text is not is a load that failed). A real kernel's modules: <see cref="ModuleLifecycle.Resume"/>.
    /// Call it instead of the boot, before the first <see cref="EventsForRound"/>.
    /// </summary>
    /// <param name="mbec">Whether the VM has MBEC (without it the boot's ranges were stored with EXEC forced on, §5).</param>
    /// <returns>
    /// Whether the immutable ranges of this kernel's boot list (text, rodata) hold what its boot asks for: false when the
    /// VM was booted with another kernel, or its boot protection failed then: it runs unprotected.
    /// </returns>
    public bool Resume(ProtectedRuns protections, bool mbec)
    {
        ArgumentNullException.ThrowIfNull(protections);
        if (Counters[KernelCounter.Resumes] > 0 || Counters[KernelCounter.Boots] > 0 || ModulesLoaded > 0 || Downgraded > 0)
            throw new InvalidOperationException("a kernel resumes instead of booting, once");
        Counters[KernelCounter.Resumes]++;
        _workload = null;
        var inForce = BootListPages.SelectMany(page => page).Where(range => (range.Permissions & HekiAttributes.Immutable) != 0)
            .All(range => protections.Holds(new GfnRange(range.Pa >> VmMemoryAttributes.PageShift, range.Epa >> VmMemoryAttributes.PageShift),
                HekiAttributes.ToKvm(mbec ? range.Permissions : range.Permissions | HekiAttributes.Exec)));
        if (_modules is not null)
        {
            _modules.Resume(protections);
            return inForce;
        }

        var downgraded = HekiAttributes.ToKvm(KernelLayout.DowngradedPermissions);
        var at = Layout.RoAfterInit.Start;
        foreach (var run in protections.Within(Layout.RoAfterInit))
        {
            if (run.Start != at || run.Word != downgraded)
                break;
            at = run.End;
        }

        Downgraded = at - Layout.RoAfterInit.Start;
        var text = HekiAttributes.ToKvm(KernelLayout.TextPermissions);
        var loaded = Enumerable.Range(0, KernelLayout.ModuleSlots).Select(slot => protections.Holds(Layout.ModuleSections(slot)[0].Range, text)).ToArray();
        var last = Array.LastIndexOf(loaded, true);
        for (var slot = 0; slot <= last; slot++)
            _loadedModules.Add(loaded[slot] ? slot : -1 - slot);
        return inForce;
    }

    /// <summary>How a boot operation's line is tagged in a recording: null for the kernel's own, the event's tag for a boot module's.</summary>
    public string? BootTag(int index) => index < _kernelBootOperations ? null : _modules!.BootEvents[index - _kernelBootOperations].Tag;

    /// <summary>Records what boot operation <paramref name="index"/> (of <see cref="BootOperations"/>) returned.</summary>
    public void BootCompleted(int index, long ret)
    {
        switch (index)
        {
            case 0:
                Counters[KernelCounter.Boots]++;
                Counters[KernelCounter.BootProtectCalls]++;
                Counters[KernelCounter.KernelHypercalls]++;
                Counters[KernelCounter.BootRanges] += BootListPages.Sum(page => page.Length);
                Counters[KernelCounter.BootListPages] += BootListPages.Length;
                Counters.Add(KernelCounter.BootTextPages, Layout.Sections.Where(s => s.Permissions == KernelLayout.TextPermissions).Aggregate(0UL, (n, s) => n + s.Pages));
                Counters.Add(KernelCounter.BootRodataPages, Layout.Sections.Where(s => s.Permissions == KernelLayout.RodataPermissions).Aggregate(0UL, (n, s) => n + s.Pages));
                Counters.Add(KernelCounter.BootDataPages, Layout.Sections.Where(s => s.Permissions == KernelLayout.DataPermissions).Aggregate(0UL, (n, s) => n + s.Pages));
                if (ret != 0)
                {
                    Counters[KernelCounter.BootProtectFailures]++;
                    if (Counters.FirstBootFailure == 0)
                        Counters.FirstBootFailure = ret;
                }

                break;
            case 1 or 2:
                Counters[KernelCounter.CrPinCalls]++;
                Counters[KernelCounter.KernelHypercalls]++;
                if (ret != 0)
                    Counters[KernelCounter.CrPinFailures]++;
                break;
            default:
                if (index >= _kernelBootOperations)
                {
                    var events = _modules!.BootEvents;
                    _modules.Completed(events[index - _kernelBootOperations], ret);
                    if (index - _kernelBootOperations == events.Count - 1)
                        _modules.BootDone();
                    _workload = null;
                }

                break;
        }
    }

    /// <summary>
    /// The kernel's own changes before round <paramref name="round"/>'s attacks and workload: one ro_after_init page
    /// made read-only (while any is left) and one module loaded (while a slot is free). Report each result to
    /// <see cref="Completed"/> before asking for the next round.
    /// </summary>
    public IReadOnlyList<KernelEvent> EventsForRound(long round)
    {
        if (_modules is not null)
            return _modules.EventsForRound(round);
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
        ArgumentNullException.ThrowIfNull(ev);
        if (_modules is not null)
        {
            _modules.Completed(ev, ret);
            _workload = null;
            return;
        }

        Counters[KernelCounter.KernelHypercalls]++;
        switch (ev.Kind)
        {
            case KernelEventKind.Downgrade:
                // Either way the kernel treats the page as read-only from now on (heki-v2 returns 0 and ignores it).
                Downgraded++;
                Counters[KernelCounter.KernelDowngrades]++;
                break;
            case KernelEventKind.ModuleLoad:
                _loadedModules.Add(ret == 0 ? ev.Index : -1 - ev.Index);
                _workload = null;
                Counters[KernelCounter.ModuleLoads]++;
                Counters[KernelCounter.ModuleLoadRanges] += ev.Operation.RangeCount;
                Counters[KernelCounter.ModuleLoadListPages] += ev.Operation.ListPages.Length;
                var sections = Layout.ModuleSections(ev.Index);
                Counters.Add(KernelCounter.ModuleTextPages, sections[0].Pages);
                Counters.Add(KernelCounter.ModuleRodataPages, sections[1].Pages);
                Counters.Add(KernelCounter.ModuleDataPages, sections[2].Pages);
                if (ret != 0)
                    Counters[KernelCounter.ModuleLoadFailures]++;
                break;
        }
    }

    /// <summary>
    /// The page the relax-then-abuse attack aims at: one the kernel made read-only after init (mutable). Before any
    /// such downgrade: the synthetic kernel's first ro_after_init page; for a real kernel, whose own ro_after_init
    /// data sits inside its immutable rodata, the first rodata page.
    /// </summary>
    public ulong DowngradeTarget(ref GuestRandom random)
    {
        if (_modules is null)
        {
            var downgraded = DowngradedPages;
            return downgraded.IsEmpty ? Layout.RoAfterInit.Start : downgraded.Start + random.NextBelow(downgraded.Length);
        }

        var ranges = _modules.Downgraded;
        var total = ranges.Aggregate(0UL, (n, r) => n + r.Length);
        if (total == 0)
            return Layout.Rodata.Start;
        var pick = random.NextBelow(total);
        foreach (var range in ranges)
        {
            if (pick < range.Length)
                return range.Start + pick;
            pick -= range.Length;
        }

        throw new InvalidOperationException("unreachable: the pick is below the total");
    }

    /// <summary>What the workload may touch now (rebuilt after a module load).</summary>
    public WorkloadSpec Workload => _workload ??= BuildWorkload();

    /// <summary>Pages the kernel has made read-only after init (the targets the downgrade-abuse attack writes to).</summary>
    public GfnRange DowngradedPages => new(Layout.RoAfterInit.Start, Layout.RoAfterInit.Start + Downgraded);

    private WorkloadSpec BuildWorkload()
    {
        var layout = Layout;
        // The layout's shared ranges, then each loaded module's: text, the whole module, its writable part.
        var exec = new List<GfnRange>(layout.BaseExec);
        var read = new List<GfnRange>(layout.BaseRead);
        var write = new List<GfnRange>(layout.BaseWrite);
        foreach (var slot in _loadedModules.Where(s => s >= 0))
        {
            var sections = layout.ModuleSections(slot);
            exec.Add(sections[0].Range);
            read.Add(new GfnRange(sections[0].StartGfn, sections[2].EndGfn));
            write.Add(sections[2].Range);
        }

        if (_modules is not null)
        {
            foreach (var (_, text, whole, data) in _modules.Loaded)
            {
                if (!text.IsEmpty)
                    exec.Add(text);
                read.Add(whole);
                if (!data.IsEmpty)
                    write.Add(data);
            }
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

/// <summary>A change the kernel makes at run time (or, for a boot module, at boot).</summary>
/// <param name="Index">The synthetic ro_after_init page or module slot; for a real kernel, the module's index in its package.</param>
public sealed record KernelEvent(KernelEventKind Kind, int Index, ProtectOperation Operation)
{
    /// <summary>How the event's line is tagged in a recording (<c>"tag":["event", Tag]</c>).</summary>
    public string Tag => Kind switch
    {
        KernelEventKind.Downgrade => "downgrade",
        KernelEventKind.ModuleLoad => "module_load",
        KernelEventKind.ModuleInitDone => "module_init",
        _ => "module_unload",
    };
}

/// <summary>The kinds of run-time kernel changes.</summary>
public enum KernelEventKind
{
    /// <summary>An ro_after_init page RW→R (a pure downgrade: heki-v2 silently ignores it).</summary>
    Downgrade,

    /// <summary>A module's text, rodata and data protected.</summary>
    ModuleLoad,

    /// <summary>A real module's init returned: its ro_after_init pages RW→R (a pure downgrade, like <see cref="Downgrade"/>).</summary>
    ModuleInitDone,

    /// <summary>A real module unloads: its text and rodata asked back as RW- (refused: they are immutable).</summary>
    ModuleUnloadLocked,

    /// <summary>A real module unloads: its ro_after_init and data back to RW- for reuse (allowed).</summary>
    ModuleUnloadData,
}
