using System.Diagnostics.Metrics;

namespace HekiActors.Observability;

/// <summary>
/// Every HekiActors instrument, created once on <see cref="HekiTelemetry.Meter"/>. Names follow the
/// OpenTelemetry conventions (dot-separated, unit in the instrument's metadata, not the name); Prometheus sees
/// them as e.g. <c>heki_accesses_total</c> and <c>heki_fastpath_duration_nanoseconds</c>. Per-access figures
/// are aggregated by the vCPU and added once per batch, never per access.
/// </summary>
public static class HekiMetrics
{
    private static readonly Meter Meter = HekiTelemetry.Meter;

    /// <summary>Fast-path buckets: tens of nanoseconds to microseconds.</summary>
    public static readonly double[] FastPathBucketsNs = [5, 10, 20, 30, 50, 75, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];

    /// <summary>Slow path, hypercall and shootdown buckets: a microsecond to a second.</summary>
    public static readonly double[] LatencyBucketsSeconds =
        [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1];

    /// <summary>Guest accesses by profile, kind and outcome (ok, pf, mmio).</summary>
    public static readonly Counter<long> Accesses = Meter.CreateCounter<long>(
        "heki.accesses", "{access}", "Guest memory accesses executed by vCPUs, by kind and outcome.");

    /// <summary>Per-access fast-path latency, from timed groups of accesses (never a clock read per access).</summary>
    public static readonly Histogram<double> FastPathDuration = Meter.CreateHistogram(
        "heki.fastpath.duration", "ns", "Time per permitted access on a cached translation, from timed groups of accesses.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastPathBucketsNs });

    /// <summary>Translation misses: request to the VM until the translation arrives.</summary>
    public static readonly Histogram<double> SlowPathDuration = Meter.CreateHistogram(
        "heki.slowpath.duration", "s", "Time from a translation miss to the VM's answer.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsSeconds });

    /// <summary>Hypercalls by hypercall and result.</summary>
    public static readonly Counter<long> Hypercalls = Meter.CreateCounter<long>(
        "heki.hypercalls", "{hypercall}", "Hypercalls handled, by hypercall and result.");

    /// <summary>Hypercall latency at the VM: validation, persistence, shootdown, reply.</summary>
    public static readonly Histogram<double> HypercallDuration = Meter.CreateHistogram(
        "heki.hypercall.duration", "s", "Time from a hypercall reaching its VM to the reply, shootdowns included.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsSeconds });

    /// <summary>Injected #PFs by profile and access kind.</summary>
    public static readonly Counter<long> Violations = Meter.CreateCounter<long>(
        "heki.violations", "{violation}", "Accesses the page permissions forbid (#PF injected), by kind.");

    /// <summary>Changes refused because the range held an immutable page (-EPERM).</summary>
    public static readonly Counter<long> ImmutableRejections = Meter.CreateCounter<long>(
        "heki.immutable.rejections", "{rejection}", "Permission changes refused because a page in the range is immutable.");

    /// <summary>Kernel warnings printed, by call site.</summary>
    public static readonly Counter<long> WarningsEmitted = Meter.CreateCounter<long>(
        "heki.warnings.emitted", "{warning}", "Kernel warnings printed, by call site.");

    /// <summary>Kernel warnings the rate limit suppressed, by call site.</summary>
    public static readonly Counter<long> WarningsSuppressed = Meter.CreateCounter<long>(
        "heki.warnings.suppressed", "{warning}", "Kernel warnings suppressed by the rate limit, by call site.");

    /// <summary>Cached translations dropped by shootdowns.</summary>
    public static readonly Counter<long> TranslationInvalidations = Meter.CreateCounter<long>(
        "heki.translation.invalidations", "{translation}", "Cached translations dropped by shootdowns.");

    /// <summary>Guest CR writes refused because they would clear a pinned bit.</summary>
    public static readonly Counter<long> CrPinBlocks = Meter.CreateCounter<long>(
        "heki.cr_pin.blocks", "{write}", "Guest CR0/CR4 writes refused because they clear a pinned bit (#GP injected).");

    /// <summary>Live VMs.</summary>
    public static readonly UpDownCounter<long> ActiveVms = Meter.CreateUpDownCounter<long>(
        "heki.vms.active", "{vm}", "VMs currently running.");

    /// <summary>Live vCPUs.</summary>
    public static readonly UpDownCounter<long> ActiveVcpus = Meter.CreateUpDownCounter<long>(
        "heki.vcpus.active", "{vcpu}", "vCPUs currently running.");

    /// <summary>Attribute runs held by all VM stores (the store's cost grows with these, not with pages).</summary>
    public static readonly UpDownCounter<long> StoreRuns = Meter.CreateUpDownCounter<long>(
        "heki.store.runs", "{run}", "Runs of equal attributes held by all VMs' attribute stores.");
}
