using HekiActors.Observability;
using HekiActors.Protocol;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Vcpu;

/// <summary>
/// What one vCPU counted and timed since it started, in the vocabulary's terms (observability/HekiVocabulary.cs):
/// the same events it adds to the metrics, kept with telemetry on or off so the report never depends on an exporter.
/// Owned by the vCPU actor; <see cref="Snapshot"/> copies it into a <see cref="VcpuCounts"/> reply.
/// </summary>
internal sealed class VcpuCounters
{
    private readonly long[] _accesses = new long[HekiTagValues.Origins.Length * 3];
    private readonly long[] _hypercalls = new long[HekiTagValues.Results.Length];

    public long Fills { get; set; }
    public long Invalidations { get; set; }
    public long RefusedCpl { get; set; }

    // The histograms are made on their first value (issue 11): a booted vCPU has timed only its hypercalls, and every
    // object a booted VM keeps is copied twice by the collector during a 10,000-VM boot (docs/benchmarks.md, fourth pass).
    private LatencyHistogram? _fastPath;
    private LatencyHistogram? _slowPath;
    private LatencyHistogram? _hypercall;

    /// <summary>Picoseconds per access, weighted by each timed group's accesses.</summary>
    public LatencyHistogram FastPath => _fastPath ??= new();

    /// <summary>Picoseconds from a miss to its fill.</summary>
    public LatencyHistogram SlowPath => _slowPath ??= new();

    /// <summary>Picoseconds from a hypercall's arrival at the vCPU to its reply.</summary>
    public LatencyHistogram Hypercall => _hypercall ??= new();

    // The slow path's and the hypercall's service and queueing (HekiVocabulary.LatencyParts, in its order); null until used.
    private readonly LatencyHistogram?[] _parts = new LatencyHistogram?[4];

    // PROTECT_MEMORY calls its VM answered, alone (the last of the vocabulary's latency parts); made at the first one, so a
    // vCPU that never passes one on holds none.
    private LatencyHistogram? _protectMemory;

    /// <summary>A miss of <paramref name="picoseconds"/> in all, of which the VM spent <paramref name="servicePicoseconds"/>.</summary>
    public void RecordSlowPath(long picoseconds, long servicePicoseconds) => RecordSplit(SlowPath, 0, picoseconds, servicePicoseconds);

    /// <summary>A hypercall of <paramref name="picoseconds"/> in all, of which the model spent <paramref name="servicePicoseconds"/>.</summary>
    public void RecordHypercall(long picoseconds, long servicePicoseconds) => RecordSplit(Hypercall, 2, picoseconds, servicePicoseconds);

    /// <summary>A PROTECT_MEMORY call its VM answered, of <paramref name="picoseconds"/> from its arrival at the vCPU to the reply.</summary>
    public void RecordProtectMemory(long picoseconds) => (_protectMemory ??= new LatencyHistogram()).Record(picoseconds);

    private void RecordSplit(LatencyHistogram whole, int part, long picoseconds, long servicePicoseconds)
    {
        // A service time measured on another clock (another thread's or node's) can exceed the whole by a little: capped.
        var service = Math.Clamp(servicePicoseconds, 0, picoseconds);
        whole.Record(picoseconds);
        Part(part).Record(service);
        Part(part + 1).Record(picoseconds - service);
    }

    private LatencyHistogram Part(int index) => _parts[index] ??= new();

    public void AddAccesses(AccessOrigin origin, int permitted, int faulted, int mmio)
    {
        var at = (int)origin * 3;
        _accesses[at] += permitted;
        _accesses[at + 1] += faulted;
        _accesses[at + 2] += mmio;
    }

    public void CountHypercall(int resultIndex) => _hypercalls[resultIndex]++;

    public VcpuCounts Snapshot(string vmId, int vcpu) => new(vmId, vcpu, (long[])_accesses.Clone(), Fills, Invalidations,
        (long[])_hypercalls.Clone(), RefusedCpl, FastPath.ToSnapshot(), SlowPath.ToSnapshot(), Hypercall.ToSnapshot(),
        [.. _parts.Select((_, i) => Part(i).ToSnapshot()), _protectMemory?.ToSnapshot() ?? LatencySnapshot.Empty]);
}
