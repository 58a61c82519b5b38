using System.Runtime.CompilerServices;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Vcpu.Workload;

/// <summary>
/// A deterministic guest workload: fills caller-provided spans with gpas, access kinds and CPLs. Accesses come
/// in bursts of one kind and mode (a basic block's fetches, a loop's loads and stores), each access near the
/// previous one of its class with probability Locality, otherwise a jump to a random place of that class
/// (weighted by size). Fetches go to kernel text and loaded module text, writes to writable kernel data, reads
/// anywhere in the kernel, user-mode accesses to user pages, so a well-behaved guest does not fault. Owned by one
/// vCPU; <see cref="Fill"/> allocates nothing.
/// </summary>
public sealed class WorkloadGenerator
{
    /// <summary>Longest burst of one kind and mode.</summary>
    public const int MaxBurst = 32;

    // A local step moves between -1 KiB and +3 KiB (code and data walk forward more than back), 8-byte aligned.
    private const ulong StepMask = 0xFFF;
    private const long StepBack = 0x400;

    private readonly ulong[] _cursor = new ulong[CompiledWorkload.ClassCount];
    private readonly int[] _region = new int[CompiledWorkload.ClassCount];
    private CompiledWorkload _workload = null!;
    private GuestRandom _random;
    private int _burstLeft;
    private int _class;
    private AccessKind _kind;
    private byte _cpl;

    public WorkloadGenerator(WorkloadSpec workload, ulong seed) => Reset(workload, seed);

    /// <summary>
    /// Starts over with another workload or seed (a vCPU reuses one generator for every round). The spec is
    /// compiled again only when it is not the one already in use.
    /// </summary>
    public void Reset(WorkloadSpec workload, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (_workload is null || !ReferenceEquals(_workload.Spec, workload))
            _workload = CompiledWorkload.Of(workload);
        _random = new GuestRandom(seed);
        _burstLeft = 0;
        for (var c = 0; c < CompiledWorkload.ClassCount; c++)
            Jump(c);
    }

    /// <summary>Fills the three spans (of equal length) with the next accesses.</summary>
    public void Fill(Span<ulong> gpas, Span<AccessKind> kinds, Span<byte> cpls)
    {
        if (kinds.Length != gpas.Length || cpls.Length != gpas.Length)
            throw new ArgumentException("gpas, kinds and cpls must have the same length");
        var classes = _workload.Classes;
        var locality = _workload.LocalityThreshold;
        for (var i = 0; i < gpas.Length; i++)
        {
            if (_burstLeft == 0)
                NewBurst();
            _burstLeft--;
            var c = _class;
            var r = _random.Next();
            if ((uint)r < locality)
            {
                var set = classes[c];
                var region = _region[c];
                var start = set.Starts[region];
                var length = set.Lengths[region];
                var step = (long)((r >> 32) & StepMask) - StepBack;
                var offset = _cursor[c] + (ulong)step - start;
                if (offset >= length)
                    offset = ((r >> 44) * length) >> 20; // fell off the region (either side): somewhere else in it
                _cursor[c] = (start + offset) & ~7UL;
            }
            else
            {
                Jump(c);
            }

            gpas[i] = _cursor[c];
            kinds[i] = _kind;
            cpls[i] = _cpl;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NewBurst()
    {
        var r = _random.Next();
        var w = _workload;
        var kindDraw = (uint)(r & 0xFFFF);
        _kind = kindDraw < w.ReadThreshold ? AccessKind.Read : kindDraw < w.WriteThreshold ? AccessKind.Write : AccessKind.Exec;
        if ((uint)((r >> 16) & 0xFFFF) < w.UserThreshold)
        {
            _cpl = 3;
            _class = CompiledWorkload.User;
        }
        else
        {
            _cpl = 0;
            _class = _kind switch
            {
                AccessKind.Read => CompiledWorkload.KernelRead,
                AccessKind.Write => CompiledWorkload.KernelWrite,
                _ => CompiledWorkload.KernelExec,
            };
        }

        _burstLeft = 1 + (int)((r >> 32) % MaxBurst);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Jump(int c)
    {
        var set = _workload.Classes[c];
        var position = _random.NextBelow(set.Total);
        var region = set.RegionAt(position);
        _region[c] = region;
        _cursor[c] = (set.Starts[region] + position - (set.CumulativeEnds[region] - set.Lengths[region])) & ~7UL;
    }
}
