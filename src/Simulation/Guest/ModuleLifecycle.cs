using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Simulation.Kernels;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation.Guest;

/// <summary>
/// The real modules of one VM's guest kernel: which load at boot, which load and unload in which round (from the
/// VM's seed), where each lives in the module area, and the PROTECT_MEMORY calls a Heki guest makes for them.
/// </summary>
/// <remarks>
/// <para>Load: text R-X and rodata R-- immutable, ro_after_init and data RW- (one call, coalesced). After the module's
/// init: ro_after_init RW→R (a pure downgrade; heki-v2 drops it, semantics §2). Init sections are freed at once and
/// never protected.</para>
/// <para>Unload: the guest asks for text and rodata back as RW- (the kernel resets freed module memory so it can be
/// reused): refused with -EPERM in both profiles, since immutable pages never change (semantics §3 rule 3). Those
/// pages are quarantined for the VM's life. ro_after_init and data go back to RW- (allowed) and are reused.</para>
/// </remarks>
public sealed class ModuleLifecycle
{
    private const ulong ReleasedPermissions = HekiAttributes.Read | HekiAttributes.Write;

    private readonly IReadOnlyList<ModuleImage> _modules;
    private readonly int[] _run;
    private readonly int _rounds;
    private readonly ModuleAllocator _allocator;
    private readonly GfnRange _area;
    // In load order; a VM has a few dozen modules at most, so a list is both the smallest and the fastest.
    private readonly List<Placement> _placed = [];
    private List<KernelEvent>? _bootEvents = [];

    /// <param name="vmSeed">The VM's seed: count-chosen modules depend on it alone.</param>
    /// <param name="rounds">The run's rounds (≥ 1): run modules are spread over them.</param>
    /// <param name="counters">Where this VM's kernel counts (shared with its <see cref="GuestKernel"/>).</param>
    public ModuleLifecycle(KernelLayout layout, GuestKernelSpec spec, ulong vmSeed, int rounds, KernelCounters counters)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(counters);
        Counters = counters;
        _modules = layout.Package?.Modules ?? throw new ArgumentException("a module lifecycle needs a real kernel", nameof(layout));
        _rounds = Math.Max(1, rounds);
        _area = layout.ModuleArea;
        _allocator = new ModuleAllocator(layout.ModuleArea);
        var random = new GuestRandom(GuestRandom.Derive(vmSeed, 0x40D));
        var boot = Choose(spec.BootModules, [], ref random);
        _run = Choose(spec.RunModules, boot, ref random);
        foreach (var module in boot)
            Plan(module, _bootEvents!, boot: true);
    }

    /// <summary>Counters of what this VM's modules cost and did.</summary>
    public KernelCounters Counters { get; }

    /// <summary>Load events made during boot (after the kernel's own protection), planned once; empty after <see cref="BootDone"/>.</summary>
    public IReadOnlyList<KernelEvent> BootEvents => _bootEvents ?? [];

    /// <summary>Boot is over: its events are not needed again (10,000 VMs need not keep them).</summary>
    public void BootDone() => _bootEvents = null;

    /// <summary>
    /// Takes over a VM an earlier run left in the journal (<see cref="GuestKernel.Resume"/>) instead of booting. The boot
    /// modules are placed as at boot (from the seed); each whose load took effect (its first part holds the permissions
    /// the load gives it) is loaded, its init done; any other is a failed load. Every other protected page of the module
    /// area (modules the earlier run loaded during its rounds, text and rodata it quarantined, data it released) is kept
    /// out of the allocator: the earlier run's modules are not this kernel's to know, and no load protects a page again.
    /// </summary>
    public void Resume(ProtectedRuns protections)
    {
        ArgumentNullException.ThrowIfNull(protections);
        if (_bootEvents is null)
            throw new InvalidOperationException("a kernel resumes instead of booting, before its boot is done");
        // The earlier run made the boot loads; this run makes none of their hypercalls, so they are not its loads.
        foreach (var load in _bootEvents.Where(e => e.Kind == KernelEventKind.ModuleLoad))
            CountLoad(_modules[load.Index], load.Operation, boot: true, -1);
        for (var i = 0; i < _placed.Count; i++)
        {
            var loaded = LoadTookEffect(_placed[i], protections);
            _placed[i] = _placed[i] with { State = loaded ? ModuleState.Loaded : ModuleState.Failed, Downgraded = loaded };
        }

        BootDone();
        foreach (var run in protections.Within(_area))
            _allocator.Reserve(run.Range);
    }

    /// <summary>Whether a placed module's load is in force: its first non-empty part holds what the load protects it with.</summary>
    private bool LoadTookEffect(Placement placement, ProtectedRuns protections)
    {
        (GfnRange Range, ulong Permissions)[] parts =
        [
            (placement.Text(_modules), KernelLayout.TextPermissions),
            (placement.Rodata(_modules), KernelLayout.RodataPermissions),
            (placement.Data(_modules), KernelLayout.DataPermissions),
        ];
        foreach (var (range, permissions) in parts)
        {
            if (!range.IsEmpty)
                return protections.Holds(range, HekiAttributes.ToKvm(permissions));
        }

        return true; // a module of no pages
    }

    /// <summary>Loaded modules in load order, with what the workload may touch: text, the whole module, its data (not ro_after_init).</summary>
    public IEnumerable<(ModuleImage Module, GfnRange Text, GfnRange Whole, GfnRange Data)> Loaded =>
        _placed.Where(p => p.State == ModuleState.Loaded)
            .Select(p => (_modules[p.Module], p.Text(_modules), p.Whole(_modules), p.Data(_modules)));

    /// <summary>ro_after_init pages the kernel has made read-only, of modules still loaded, in load order.</summary>
    public IReadOnlyList<GfnRange> Downgraded =>
        _placed.Where(p => p.State == ModuleState.Loaded && p.Downgraded).Select(p => p.RoAfterInit(_modules)).ToList();

    /// <summary>The round a run module loads in: module i of N in round ⌊i·rounds/N⌋.</summary>
    public int LoadRound(int runIndex) => (int)((long)runIndex * _rounds / Math.Max(1, _run.Length));

    /// <summary>
    /// Round <paramref name="round"/>'s module events: first the unloads of the run modules loaded the round before,
    /// then the loads of this round's. Report each result to <see cref="Completed"/>.
    /// </summary>
    public IReadOnlyList<KernelEvent> EventsForRound(long round)
    {
        var events = new List<KernelEvent>();
        for (var i = 0; i < _run.Length; i++)
        {
            var at = LoadRound(i) == round - 1 ? Find(_run[i]) : -1;
            if (at >= 0)
                Unload(at, events);
        }

        for (var i = 0; i < _run.Length; i++)
        {
            if (LoadRound(i) == round)
                Plan(_run[i], events, boot: false);
        }

        return events;
    }

    /// <summary>Records what one of this lifecycle's events returned.</summary>
    public void Completed(KernelEvent ev, long ret)
    {
        ArgumentNullException.ThrowIfNull(ev);
        var at = Find(ev.Index);
        switch (ev.Kind)
        {
            case KernelEventKind.ModuleLoad when at >= 0:
                if (ret != 0)
                    Counters[KernelCounter.ModuleLoadFailures]++;
                _placed[at] = _placed[at] with { State = ret == 0 ? ModuleState.Loaded : ModuleState.Failed };
                break;
            case KernelEventKind.ModuleInitDone:
                Counters[KernelCounter.ModuleInitDowngrades]++;
                // Either way the kernel treats the pages as read-only from now on (heki-v2 returns 0 and ignores it).
                if (at >= 0)
                    _placed[at] = _placed[at] with { Downgraded = true };
                break;
            case KernelEventKind.ModuleUnloadLocked:
                Counters[ret == 0 ? KernelCounter.ImmutableReleasesAccepted : KernelCounter.ImmutableReleasesRefused]++;
                break;
            case KernelEventKind.ModuleUnloadData:
                Counters[ret == 0 ? KernelCounter.MutableReleases : KernelCounter.MutableReleaseFailures]++;
                break;
        }

        Counters[KernelCounter.KernelHypercalls]++;
    }

    /// <summary>Counts a planned load (<paramref name="sign"/> +1), or takes one back (-1: a resumed kernel's boot loads were the earlier run's).</summary>
    private void CountLoad(ModuleImage image, ProtectOperation load, bool boot, int sign)
    {
        Counters[KernelCounter.ModuleLoads] += sign;
        if (boot)
            Counters[KernelCounter.BootModuleLoads] += sign;
        Counters[KernelCounter.ModuleLoadRanges] += sign * load.RangeCount;
        Counters[KernelCounter.ModuleLoadListPages] += sign * load.ListPages.Length;
        Counters[KernelCounter.ModuleTextPages] += sign * checked((long)image.TextPages);
        Counters[KernelCounter.ModuleRodataPages] += sign * checked((long)image.RodataPages);
        Counters[KernelCounter.ModuleRoAfterInitPages] += sign * checked((long)image.RoAfterInitPages);
        Counters[KernelCounter.ModuleDataPages] += sign * checked((long)image.DataPages);
    }

    private void Plan(int module, List<KernelEvent> events, bool boot)
    {
        var image = _modules[module];
        if (_allocator.Allocate(image.CorePages) is not { } whole)
        {
            Counters[KernelCounter.ModuleLoadsOutOfMemory]++;
            return;
        }

        var placement = new Placement(module, whole.Start, ModuleState.Planned, false);
        _placed.Add(placement);
        var text = placement.Text(_modules);
        var rodata = placement.Rodata(_modules);
        var writable = placement.Writable(_modules);
        var sections = new[]
        {
            new KernelSection(image.Name, text.Start, text.End, KernelLayout.TextPermissions),
            new KernelSection(image.Name, rodata.Start, rodata.End, KernelLayout.RodataPermissions),
            new KernelSection(image.Name, writable.Start, writable.End, KernelLayout.DataPermissions),
        };
        var load = new ProtectOperation(0, GuestKernel.Pack(GuestKernel.Coalesce(sections)), 0);
        events.Add(new KernelEvent(KernelEventKind.ModuleLoad, module, load));
        CountLoad(image, load, boot, +1);
        var roAfterInit = placement.RoAfterInit(_modules);
        if (!roAfterInit.IsEmpty)
            events.Add(new KernelEvent(KernelEventKind.ModuleInitDone, module,
                new ProtectOperation(0, [[Range(roAfterInit, KernelLayout.DowngradedPermissions)]], 0)));
    }

    private int Find(int module) => _placed.FindIndex(p => p.Module == module);

    private void Unload(int at, List<KernelEvent> events)
    {
        var placement = _placed[at];
        _placed.RemoveAt(at);
        Counters[KernelCounter.ModuleUnloads]++;
        var locked = new GfnRange(placement.Start, placement.Rodata(_modules).End);
        var writable = placement.Writable(_modules);
        if (!locked.IsEmpty)
        {
            events.Add(new KernelEvent(KernelEventKind.ModuleUnloadLocked, placement.Module,
                new ProtectOperation(0, [[Range(locked, ReleasedPermissions)]], 0)));
            _allocator.Quarantine(locked);
            Counters.Add(KernelCounter.PagesQuarantined, locked.Length);
        }

        if (!writable.IsEmpty)
        {
            events.Add(new KernelEvent(KernelEventKind.ModuleUnloadData, placement.Module,
                new ProtectOperation(0, [[Range(writable, ReleasedPermissions)]], 0)));
            _allocator.Free(writable);
            Counters.Add(KernelCounter.PagesReturned, writable.Length);
        }
    }

    /// <summary>The modules a choice names, or <c>Count</c> of them drawn from the seed among those not in <paramref name="taken"/>.</summary>
    private int[] Choose(ModuleChoice choice, int[] taken, ref GuestRandom random)
    {
        if (choice.Names is { } names)
        {
            return names.Select(name =>
            {
                for (var i = 0; i < _modules.Count; i++)
                {
                    if (_modules[i].Name == name)
                        return i;
                }

                throw new ArgumentException($"no module named {name}", nameof(choice));
            }).ToArray();
        }

        // A partial Fisher–Yates shuffle of the modules not taken (in index order): the first Count are the choice.
        // The pool is virtual, only the swapped positions are kept: a real kernel has thousands of modules, and
        // materializing them cost ~20 KB for every VM's boot (issue 11). Same draws, same choice as a full array.
        var excluded = taken.Where(t => t >= 0 && t < _modules.Count).Distinct().Order().ToArray();
        var poolLength = _modules.Count - excluded.Length;
        var count = Math.Min(choice.Count, poolLength);
        var swapped = new Dictionary<int, int>(2 * count);
        var chosen = new int[count];
        for (var i = 0; i < count; i++)
        {
            var j = i + (int)random.NextBelow((ulong)(poolLength - i));
            var atJ = swapped.TryGetValue(j, out var v) ? v : PoolAt(j, excluded);
            var atI = swapped.TryGetValue(i, out var u) ? u : PoolAt(i, excluded);
            swapped[j] = atI;
            chosen[i] = atJ;
        }

        return chosen;
    }

    /// <summary>The <paramref name="position"/>-th module index not in <paramref name="excluded"/> (sorted, distinct).</summary>
    private static int PoolAt(int position, int[] excluded)
    {
        var index = position;
        foreach (var skip in excluded)
        {
            if (skip <= index)
                index++;
            else
                break;
        }

        return index;
    }

    private static MemoryRange Range(GfnRange range, ulong permissions) =>
        new(range.Start << VmMemoryAttributes.PageShift, range.End << VmMemoryAttributes.PageShift, permissions);

    private enum ModuleState
    {
        Planned,
        Loaded,
        Failed,
    }

    /// <summary>
    /// Where one module lives: [text | rodata | ro_after_init | data], contiguous from <see cref="Start"/>; the
    /// regions follow from the module's sizes, so a VM keeps only this small value per loaded module.
    /// </summary>
    private readonly record struct Placement(int Module, ulong Start, ModuleState State, bool Downgraded)
    {
        public GfnRange Text(IReadOnlyList<ModuleImage> modules) => new(Start, Start + modules[Module].TextPages);

        public GfnRange Rodata(IReadOnlyList<ModuleImage> modules) =>
            new(Start + modules[Module].TextPages, Start + modules[Module].TextPages + modules[Module].RodataPages);

        public GfnRange RoAfterInit(IReadOnlyList<ModuleImage> modules)
        {
            var start = Rodata(modules).End;
            return new GfnRange(start, start + modules[Module].RoAfterInitPages);
        }

        /// <summary>ro_after_init and data.</summary>
        public GfnRange Writable(IReadOnlyList<ModuleImage> modules) => new(Rodata(modules).End, Whole(modules).End);

        /// <summary>Data without ro_after_init.</summary>
        public GfnRange Data(IReadOnlyList<ModuleImage> modules) => new(RoAfterInit(modules).End, Whole(modules).End);

        public GfnRange Whole(IReadOnlyList<ModuleImage> modules) => new(Start, Start + modules[Module].CorePages);
    }
}
