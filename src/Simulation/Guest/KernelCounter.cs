namespace HekiActors.Simulation.Guest;

/// <summary>What a guest kernel counts about its own protections (boot, module loads and unloads), per VM and summed.</summary>
public enum KernelCounter
{
    /// <summary>Boots whose protection hypercalls all ran.</summary>
    Boots,

    /// <summary>PROTECT_MEMORY calls that protected the kernel image at boot.</summary>
    BootProtectCalls,

    /// <summary>Ranges in those calls.</summary>
    BootRanges,

    /// <summary>List pages in those calls.</summary>
    BootListPages,

    /// <summary>Boot PROTECT_MEMORY calls that returned non-zero: the kernel is not (wholly) protected.</summary>
    BootProtectFailures,

    /// <summary>LOCK_CR_UPDATE calls at boot (CR0.WP, CR4.SMEP|SMAP).</summary>
    CrPinCalls,

    /// <summary>Of those, the ones that returned non-zero.</summary>
    CrPinFailures,

    /// <summary>Kernel text, rodata and data pages protected at boot.</summary>
    BootTextPages,
    BootRodataPages,
    BootDataPages,

    /// <summary>Module loads whose PROTECT_MEMORY call was made (at boot and during the run).</summary>
    ModuleLoads,

    /// <summary>Of those, the ones made during boot.</summary>
    BootModuleLoads,

    /// <summary>Module loads whose PROTECT_MEMORY call returned non-zero.</summary>
    ModuleLoadFailures,

    /// <summary>Module loads the guest gave up before any hypercall: no free run in its module area was big enough.</summary>
    ModuleLoadsOutOfMemory,

    /// <summary>Ranges and list pages of the module-load PROTECT_MEMORY calls.</summary>
    ModuleLoadRanges,
    ModuleLoadListPages,

    /// <summary>Module pages protected at load: text R-X immutable, rodata R-- immutable, ro_after_init and data RW-.</summary>
    ModuleTextPages,
    ModuleRodataPages,
    ModuleRoAfterInitPages,
    ModuleDataPages,

    /// <summary>ro_after_init RW→R downgrades after a module's init (a pure downgrade: heki-v2 drops it and returns 0).</summary>
    ModuleInitDowngrades,

    /// <summary>Module unloads.</summary>
    ModuleUnloads,

    /// <summary>Unloads whose attempt to make text and rodata writable again was refused (-EPERM): immutable stays immutable.</summary>
    ImmutableReleasesRefused,

    /// <summary>Unloads whose attempt succeeded (none under either profile: it would be a defect).</summary>
    ImmutableReleasesAccepted,

    /// <summary>Unloads whose ro_after_init and data pages went back to RW- (allowed: they are mutable).</summary>
    MutableReleases,

    /// <summary>Unloads whose release of mutable pages failed.</summary>
    MutableReleaseFailures,

    /// <summary>Pages the guest can never reuse: unloaded modules' text and rodata, immutable for the VM's life.</summary>
    PagesQuarantined,

    /// <summary>Pages unloaded modules gave back to the module allocator (their ro_after_init and data).</summary>
    PagesReturned,

    /// <summary>The synthetic kernel's own ro_after_init RW→R downgrades, one page per round.</summary>
    KernelDowngrades,

    /// <summary>PROTECT_MEMORY and LOCK_CR_UPDATE calls made for all of the above.</summary>
    KernelHypercalls,

    /// <summary>
    /// Kernels that took over a VM an earlier run left in the journal (<c>heki simulate --resume</c>) instead of booting
    /// one: their protections were in force already, so they made no boot hypercall.
    /// </summary>
    Resumes,
}

/// <summary>The counters of one VM's guest kernel, or of many summed; plain data handed over once, like VmTotals.</summary>
public sealed class KernelCounters
{
    private static readonly int Count = Enum.GetValues<KernelCounter>().Length;
    private readonly long[] _values = new long[Count];

    public long this[KernelCounter counter]
    {
        get => _values[(int)counter];
        set => _values[(int)counter] = value;
    }

    /// <summary>Adds a count of pages (or anything unsigned) to <paramref name="counter"/>.</summary>
    public void Add(KernelCounter counter, ulong amount) => _values[(int)counter] += checked((long)amount);

    /// <summary>The first non-zero return of a boot PROTECT_MEMORY call, for the report; 0 when none failed.</summary>
    public long FirstBootFailure { get; set; }

    /// <summary>These counters as an immutable message payload.</summary>
    public GuestKernelCounts ToPayload() => new([.. _values], FirstBootFailure);

    /// <summary>Adds a payload's counts (one per counter, in <see cref="KernelCounter"/> order).</summary>
    public void Add(GuestKernelCounts payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Values.Length != Count)
            throw new ArgumentException($"{payload.Values.Length} kernel counts, expected {Count}", nameof(payload));
        for (var i = 0; i < Count; i++)
            _values[i] += payload.Values[i];
        if (FirstBootFailure == 0)
            FirstBootFailure = payload.FirstBootFailure;
    }

    public void Add(KernelCounters other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < Count; i++)
            _values[i] += other._values[i];
        if (FirstBootFailure == 0)
            FirstBootFailure = other.FirstBootFailure;
    }
}
