using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Vcpu.Workload;

/// <summary>
/// A <see cref="WorkloadSpec"/> prepared for <see cref="WorkloadGenerator"/>: each access class's regions as byte
/// ranges with cumulative sizes, and the mix as integer thresholds, so generating an access costs no division and
/// no allocation. Immutable.
/// </summary>
internal sealed class CompiledWorkload
{
    // One compiled form per spec, whichever vCPU asks first: a VM's vCPUs run the same spec, and its regions (a few
    // KB with the modules' text) need not be held once per vCPU (issue 11). Immutable, so sharing it shares no state;
    // it lives as long as the spec does.
    private static readonly ConditionalWeakTable<WorkloadSpec, CompiledWorkload> Compiled = new();

    internal const int KernelExec = 0;
    internal const int KernelRead = 1;
    internal const int KernelWrite = 2;
    internal const int User = 3;
    internal const int ClassCount = 4;

    /// <summary>The compiled form of <paramref name="spec"/>, compiled once for every holder of the same spec.</summary>
    public static CompiledWorkload Of(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Compiled.GetValue(spec, static s => new CompiledWorkload(s));
    }

    public CompiledWorkload(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(spec.Mix);
        Spec = spec;
        var mix = spec.Mix;
        var read = RegionSet.From(spec.KernelRead);
        if (read.Total == 0)
            throw new ArgumentException("a workload needs kernel pages to read", nameof(spec));
        // A class with nowhere to go falls back to kernel reads' regions (never to a page that would fault).
        Classes = [RegionSet.From(spec.KernelExec, read), read, RegionSet.From(spec.KernelWrite, read), RegionSet.From(spec.User, read)];
        HasUser = Classes[User] != read;

        var total = Math.Max(mix.Read, 0) + Math.Max(mix.Write, 0) + Math.Max(mix.Exec, 0);
        if (total <= 0)
            total = 1;
        ReadThreshold = (uint)(Math.Max(mix.Read, 0) / total * 65536);
        WriteThreshold = (uint)((Math.Max(mix.Read, 0) + Math.Max(mix.Write, 0)) / total * 65536);
        UserThreshold = HasUser ? (uint)(Math.Clamp(mix.UserMode, 0, 1) * 65536) : 0;
        LocalityThreshold = (uint)Math.Min(Math.Clamp(mix.Locality, 0, 1) * 4294967296.0, uint.MaxValue);
    }

    /// <summary>The spec this was compiled from.</summary>
    public WorkloadSpec Spec { get; }

    internal RegionSet[] Classes { get; }

    internal bool HasUser { get; }

    /// <summary>Out of 65536: below it a burst reads; below <see cref="WriteThreshold"/> it writes; else it fetches.</summary>
    internal uint ReadThreshold { get; }

    internal uint WriteThreshold { get; }

    /// <summary>Out of 65536: below it a burst runs in user mode.</summary>
    internal uint UserThreshold { get; }

    /// <summary>Out of 2^32: below it an access stays near the previous one of its class.</summary>
    internal uint LocalityThreshold { get; }

    /// <summary>Regions of one access class as byte ranges, with cumulative sizes for weighted jumps.</summary>
    internal sealed class RegionSet
    {
        private RegionSet(ulong[] starts, ulong[] lengths, ulong[] cumulativeEnds)
        {
            Starts = starts;
            Lengths = lengths;
            CumulativeEnds = cumulativeEnds;
            Total = cumulativeEnds.Length == 0 ? 0 : cumulativeEnds[^1];
        }

        public ulong[] Starts { get; }

        public ulong[] Lengths { get; }

        public ulong[] CumulativeEnds { get; }

        public ulong Total { get; }

        public static RegionSet From(ImmutableArray<GfnRange> ranges, RegionSet? fallback = null)
        {
            var nonEmpty = ranges.IsDefault ? [] : ranges.Where(r => !r.IsEmpty).ToArray();
            if (nonEmpty.Length == 0 && fallback is not null)
                return fallback;
            var starts = new ulong[nonEmpty.Length];
            var lengths = new ulong[nonEmpty.Length];
            var ends = new ulong[nonEmpty.Length];
            ulong total = 0;
            for (var i = 0; i < nonEmpty.Length; i++)
            {
                starts[i] = nonEmpty[i].Start << VmMemoryAttributes.PageShift;
                lengths[i] = nonEmpty[i].Length << VmMemoryAttributes.PageShift;
                total += lengths[i];
                ends[i] = total;
            }

            return new RegionSet(starts, lengths, ends);
        }

        /// <summary>The region holding byte <paramref name="position"/> of the concatenation (position &lt; Total).</summary>
        public int RegionAt(ulong position)
        {
            int lo = 0, hi = CumulativeEnds.Length - 1;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (CumulativeEnds[mid] <= position)
                    lo = mid + 1;
                else
                    hi = mid;
            }

            return lo;
        }
    }
}
