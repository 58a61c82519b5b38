using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Vm;

/// <summary>
/// A VM's durable state: its configuration, attribute store, CR pins, each vCPU's control registers, the requests
/// answered with a change, and the ids of recent destroys; or, for a VM that does not exist (destroyed), only
/// those ids. Changed only by <see cref="VmCore.Evolve(VmState?, IVmEvent)"/>; read by <see cref="VmCore.Decide"/>
/// and by the VM's queries (permissions, translations).
/// </summary>
/// <remarks>
/// Linear ownership ("functional but in place"): the attribute store is a tuned mutable B-tree that must not be
/// copied per event, so <see cref="VmCore.Evolve(VmState?, IVmEvent)"/> changes the state it is given in place and
/// returns a new handle on it. The handle it was given is then spent: every member of a spent handle throws
/// <see cref="InvalidOperationException"/>, so holding on to an old state is a bug that shows, never a silent read
/// of changed data.
/// </remarks>
public sealed class VmState
{
    /// <summary>Destroy ids a VM remembers (bounded: a destroy resent after this many others is "no VM").</summary>
    public const int RecentDestroysKept = 64;

    private readonly Body _body;
    private bool _spent;

    private VmState(Body body) => _body = body;

    private Body Live => _spent
        ? throw new InvalidOperationException("this VmState was evolved: use the state Evolve returned")
        : _body;

    /// <summary>A state nobody evolved yet: the VM was never created.</summary>
    public static VmState Initial() => new(Body.Absent([]));

    /// <summary>Whether the VM exists (created and not destroyed since).</summary>
    public bool IsAlive => Live.Config is not null;

    /// <summary>The VM's configuration; only while <see cref="IsAlive"/>.</summary>
    public VmConfig Config => Live.Config ?? throw new InvalidOperationException("the VM does not exist");

    /// <summary>The request that created this incarnation, so a resent create is answered, not refused.</summary>
    public Guid CreatedBy => Live.CreatedBy;

    public CrPins Pins => Live.Pins;

    /// <summary>Number of vCPUs (0 when the VM does not exist).</summary>
    public int VcpuCount => Live.ControlRegisters.Length;

    /// <summary>The value of CR<paramref name="cr"/> of vCPU <paramref name="vcpu"/>; every CR of a new vCPU starts at 0 (§7).</summary>
    public ulong ControlRegister(int vcpu, int cr) => Live.ControlRegisters[vcpu][cr];

    /// <summary>A copy of CR0..CR15 of vCPU <paramref name="vcpu"/>.</summary>
    public ulong[] ControlRegisters(int vcpu) => (ulong[])Live.ControlRegisters[vcpu].Clone();

    /// <summary>kvm_permissions_get (§3).</summary>
    public ulong PermissionsGet(ulong gfn) => Memory.PermissionsGet(gfn);

    /// <summary>kvm_get_memory_attributes: the raw KVM word of <paramref name="gfn"/>.</summary>
    public ulong GetAttributes(ulong gfn) => Memory.GetAttributes(gfn);

    /// <summary>The maximal run around <paramref name="gfn"/> with one word: what the VM hands a vCPU as a translation.</summary>
    public AttributeRun RegionOf(ulong gfn) => Memory.RegionOf(gfn);

    /// <summary>Maximal runs with a non-zero word in the store.</summary>
    public int RunCount => Memory.Store.RunCount;

    /// <summary>Boundaries (changes of word) in the store.</summary>
    public int BoundaryCount => Memory.Store.BoundaryCount;

    /// <summary>Whether request <paramref name="requestId"/> was answered with a change, and with what.</summary>
    public bool TryGetAnswer(Guid requestId, out RecordedAnswer result)
    {
        result = default;
        return Live.Answered is { } answered && answered.TryGet(requestId, out result);
    }

    /// <summary>Whether one of the last <see cref="RecentDestroysKept"/> destroys of this id had request id <paramref name="requestId"/>.</summary>
    public bool WasDestroyedBy(Guid requestId) => requestId != Guid.Empty && Array.IndexOf(Live.RecentDestroys, requestId) >= 0;

    /// <summary>The ids of the last destroys, oldest first.</summary>
    public IReadOnlyList<Guid> RecentDestroys => Live.RecentDestroys;

    /// <summary>The attribute store and its kernel functions (read them; only <see cref="VmCore"/> changes them).</summary>
    internal VmMemoryAttributes Memory => Live.Memory ?? throw new InvalidOperationException("the VM does not exist");

    public VmSnapshot ToSnapshot()
    {
        var body = Live;
        return new VmSnapshot(
            body.Config,
            body.Memory is { } memory ? memory.Store.Runs.ToArray() : [],
            body.Pins.Cr0,
            body.Pins.Cr4,
            body.ControlRegisters.Select(crs => (ulong[])crs.Clone()).ToArray(),
            body.Answered?.ToArray() ?? [],
            body.CreatedBy,
            (Guid[])body.RecentDestroys.Clone());
    }

    public static VmState FromSnapshot(VmSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var destroys = snapshot.RecentDestroys ?? [];
        if (snapshot.Config is null)
            return new VmState(Body.Absent(destroys));
        var body = Body.Fresh(snapshot.Config, snapshot.CreatedBy, destroys);
        body.Memory!.Restore(snapshot.Runs);
        body.Pins = new CrPins(snapshot.Cr0Pins, snapshot.Cr4Pins);
        for (var i = 0; i < Math.Min(snapshot.ControlRegisters.Length, body.ControlRegisters.Length); i++)
            Array.Copy(snapshot.ControlRegisters[i], body.ControlRegisters[i],
                Math.Min(snapshot.ControlRegisters[i].Length, CrPinning.ControlRegisterCount));
        foreach (var answered in snapshot.Answered)
            body.Answered!.Remember(answered.RequestId, new RecordedAnswer(answered.Result, answered.HostIntegrityFaults));
        return new VmState(body);
    }

    // ---- for VmCore.Evolve ---------------------------------------------------------------------------------

    /// <summary>A fresh incarnation; the destroy ids of the state before it carry over.</summary>
    internal static VmState Configured(VmState? before, VmConfig config, Guid createdBy)
    {
        var destroys = before?.Live.RecentDestroys ?? [];
        before?.Spend();
        return new VmState(Body.Fresh(config, createdBy, destroys));
    }

    internal static VmState Destroyed(VmState? before, Guid[] recentDestroys)
    {
        before?.Spend();
        return new VmState(Body.Absent(recentDestroys));
    }

    /// <summary>Hands this state's contents over for a change (this handle is spent); <see cref="Of"/> wraps them again.</summary>
    internal Body TakeOver()
    {
        var body = Live;
        Spend();
        return body;
    }

    internal static VmState Of(Body body) => new(body);

    private void Spend() => _spent = true;

    /// <summary>The mutable contents a chain of handles shares; only the newest handle may reach it.</summary>
    internal sealed class Body
    {
        private Body(VmConfig? config, Guid createdBy, Guid[] recentDestroys)
        {
            Config = config;
            CreatedBy = createdBy;
            RecentDestroys = recentDestroys;
            if (config is null)
            {
                ControlRegisters = [];
                return;
            }

            Memory = new VmMemoryAttributes(config.Profile, config.PrivateMemory);
            ControlRegisters = Enumerable.Range(0, config.VcpuCount).Select(_ => new ulong[CrPinning.ControlRegisterCount]).ToArray();
            Answered = new AnsweredRequests();
        }

        public VmConfig? Config { get; }
        public Guid CreatedBy { get; }
        public Guid[] RecentDestroys { get; }
        public VmMemoryAttributes? Memory { get; }
        public CrPins Pins { get; set; }
        public ulong[][] ControlRegisters { get; }
        public AnsweredRequests? Answered { get; }

        public static Body Fresh(VmConfig config, Guid createdBy, Guid[] recentDestroys) => new(config, createdBy, recentDestroys);

        public static Body Absent(Guid[] recentDestroys) => new(null, Guid.Empty, recentDestroys);
    }
}
