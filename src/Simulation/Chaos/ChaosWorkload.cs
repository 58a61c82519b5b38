using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Simulation.Replay;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// The operations one VM of a chaos run performs, as replay requests, from the seed alone: PROTECT_MEMORY lists
/// (single ranges, multi-range lists that may hit an immutable page, rarely an overflowing list page), host
/// set_permissions, accesses from every vCPU at CPL 0 and 3, CR pins, writes and reads, and probes of the ranges
/// just changed, over a small window of gfns so that operations meet. Every <see cref="Lifetime"/> operations the
/// VM is destroyed and created again, so immutable pages do not end up refusing everything.
/// </summary>
public sealed class ChaosWorkload
{
    /// <summary>Operations between a VM's create and its destroy.</summary>
    public const int Lifetime = 400;

    /// <summary>The first gfn operations touch.</summary>
    internal const ulong WindowStart = 16;

    /// <summary>How many gfns from <see cref="WindowStart"/> operations touch.</summary>
    internal const ulong WindowPages = 192;
    private const ulong Cr0Wp = 1UL << 16;
    private const ulong Cr4Smep = 1UL << 20;
    private const ulong Cr4Smap = 1UL << 21;

    private readonly string _vm;
    private readonly int _vcpus;
    private readonly ulong _memoryMb;
    private readonly bool _mbec;
    private readonly Queue<ReplayRequest> _queued = new();
    private GuestRandom _random;
    private long _sinceCreate = -1;

    public ChaosWorkload(ulong seed, int vmIndex, string vm, int vcpus, ulong memoryMb)
    {
        _vm = vm;
        _vcpus = vcpus;
        _memoryMb = memoryMb;
        _random = new GuestRandom(GuestRandom.Derive(seed, 0xC4A05, (ulong)vmIndex));
        _mbec = true;
    }

    /// <summary>The next operation.</summary>
    public ReplayRequest Next()
    {
        if (_queued.Count > 0)
            return _queued.Dequeue();
        if (_sinceCreate < 0 || _sinceCreate >= Lifetime)
        {
            if (_sinceCreate >= Lifetime)
            {
                _sinceCreate = -1;
                return new DestroyVmRequest(_vm);
            }

            _sinceCreate = 0;
            return new CreateVmRequest(_vm, _memoryMb, _vcpus, _mbec, PrivateMemory: false);
        }

        _sinceCreate++;
        var roll = Below(1000);
        return roll switch
        {
            < 230 => Probed(new ProtectRequest(_vm, 0, [[Range()]], 0)),
            < 330 => Probed(new ProtectRequest(_vm, 0, [Enumerable.Range(0, 2 + (int)Below(3)).Select(_ => Range()).ToArray()], 0)),
            < 333 => Overflowing(),
            < 390 => Probed(SetPermissions()),
            < 740 => Access(),
            < 800 => new GetPermissionsRequest(_vm, Gfn()),
            < 815 => LockCr(),
            < 900 => WriteCr(),
            < 940 => new ReadCrRequest(_vm, Vcpu(), Below(2) == 0 ? 0 : 4),
            < 960 => new ProtectRequest(_vm, Vcpu(), [[Range()]], 3),
            _ => new GetMemoryAttributesRequest(_vm, Gfn()),
        };
    }

    private ReplayRequest Probed(ReplayRequest change)
    {
        // Probe what the change touched: where the oracle sees a change in force, or one that should not be.
        IEnumerable<(ulong Start, ulong End)> ranges = change switch
        {
            ProtectRequest p => p.ListPages.SelectMany(page => page).Select(r => (r.Pa >> 12, r.Epa >> 12)),
            SetPermissionsRequest s => [(s.Start, s.End)],
            _ => [],
        };
        foreach (var (start, end) in ranges.Take(4))
        {
            if (end <= start)
                continue;
            var gfn = start + Below(end - start);
            _queued.Enqueue(Below(2) == 0
                ? new GetPermissionsRequest(_vm, gfn)
                : new AccessRequest(_vm, Vcpu(), gfn << 12, (AccessKind)Below(3), Below(4) == 0 ? (byte)3 : (byte)0));
        }

        return change;
    }

    private ReplayRequest Overflowing()
    {
        var page = Enumerable.Range(0, ProtectMemory.MaxRangesPerPage + 1)
            .Select(i => new MemoryRange((WindowStart + (ulong)i % WindowPages) << 12, (WindowStart + (ulong)i % WindowPages + 1) << 12, 7))
            .ToArray();
        return new ProtectRequest(_vm, 0, [page], 0);
    }

    private MemoryRange Range()
    {
        var start = Gfn();
        var pages = 1 + Below(8);
        // Mostly R, RW, RX, RWX and their downgrades; immutable rarely, so a VM's life is not all refusals.
        ulong[] common = [1, 3, 5, 7, 1, 3, 5, 7, 2, 6];
        var perm = Below(100) < 3 ? common[Below((ulong)common.Length)] | HekiAttributes.Immutable : common[Below((ulong)common.Length)];
        // Now and then a range the kernel refuses (unaligned, or no permission bits).
        if (Below(100) < 2)
            return new MemoryRange((start << 12) + 8, (start + pages) << 12, perm);
        return new MemoryRange(start << 12, Math.Min(start + pages, WindowStart + WindowPages) << 12, perm);
    }

    private SetPermissionsRequest SetPermissions()
    {
        var start = Gfn();
        return new SetPermissionsRequest(_vm, start, start + 1 + Below(6), Below(8));
    }

    private AccessRequest Access() =>
        new(_vm, Vcpu(), (Gfn() << 12) + Below(4096), (AccessKind)Below(3), Below(4) == 0 ? (byte)3 : (byte)0);

    private LockCrRequest LockCr() => Below(2) == 0
        ? new LockCrRequest(_vm, 0, 0, Cr0Wp, 0)
        : new LockCrRequest(_vm, 0, 4, Below(2) == 0 ? Cr4Smep : Cr4Smep | Cr4Smap, 0);

    private WriteCrRequest WriteCr()
    {
        var cr = Below(2) == 0 ? 0 : 4;
        var value = cr == 0
            ? (Below(2) == 0 ? 0x80050033UL : 0x80040033UL)
            : (Below(2) == 0 ? Cr4Smep | Cr4Smap : Below(2) == 0 ? Cr4Smep : 0);
        return new WriteCrRequest(_vm, Vcpu(), cr, value);
    }

    private ulong Gfn() => WindowStart + Below(WindowPages);

    private int Vcpu() => (int)Below((ulong)_vcpus);

    private ulong Below(ulong bound) => _random.NextBelow(bound);
}
