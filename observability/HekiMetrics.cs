using System.Diagnostics;
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

    /// <summary>Fast-path buckets (ns): 1 ns steps up to 10 ns, where the fast path lives, then coarser up to a millisecond.</summary>
    public static readonly double[] FastPathBucketsNs =
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1_000, 2_000, 5_000, 10_000, 100_000, 1_000_000];

    /// <summary>Slow path and hypercall buckets (s): a microsecond to two minutes (a loaded host queues for seconds).</summary>
    public static readonly double[] LatencyBucketsSeconds =
        [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

    /// <summary>Guest accesses by profile, origin, kind and outcome (ok, pf, mmio).</summary>
    public static readonly Counter<long> Accesses = Meter.CreateCounter<long>(
        "heki.accesses", "{access}", "Guest memory accesses executed by vCPUs, by origin, kind and outcome.");

    /// <summary>Per-access fast-path latency (see <see cref="TelemetryOptions.FastPathAccessesPerObservation"/>).</summary>
    public static readonly Histogram<double> FastPathDuration = Meter.CreateHistogram(
        HekiVocabulary.FastPath.Metric, "ns",
        "Time per access on a cached translation; one observation per 16,384 accesses, sampled in proportion to the accesses each timed group covered.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastPathBucketsNs });

    /// <summary>Translation misses: request to the VM until the translation arrives.</summary>
    public static readonly Histogram<double> SlowPathDuration = Meter.CreateHistogram(
        HekiVocabulary.SlowPath.Metric, "s", "Time from a translation miss to the VM's answer.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsSeconds });

    /// <summary>Translation misses the VM served.</summary>
    public static readonly Counter<long> TranslationFills = Meter.CreateCounter<long>(
        HekiVocabulary.TranslationFills.Metric, "{fill}", "Translation misses served by the VM (slow path), by origin.");

    /// <summary>Hypercalls by hypercall and result.</summary>
    public static readonly Counter<long> Hypercalls = Meter.CreateCounter<long>(
        "heki.hypercalls", "{hypercall}", "Hypercalls handled, by hypercall and result.");

    /// <summary>Hypercall latency at the guest's vCPU: its VM's validation, persistence, shootdowns and reply included.</summary>
    public static readonly Histogram<double> HypercallDuration = Meter.CreateHistogram(
        HekiVocabulary.Hypercall.Metric, "s", "Time from a hypercall's arrival at the guest's vCPU to the reply, the VM's work and shootdowns included.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsSeconds });

    /// <summary>#PF and #GP injected, by profile, exception and origin; recorded per violation with its span current (exemplars).</summary>
    public static readonly Counter<long> Violations = Meter.CreateCounter<long>(
        "heki.violations", "{violation}", "Guest actions stopped by an injected exception: #PF (forbidden access) or #GP (CR write clearing a pinned bit).");

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

    /// <summary>VMs whose guest kernel's boot protection failed, by reason (the failing hypercall's errno name).</summary>
    public static readonly Counter<long> BootProtectionFailures = Meter.CreateCounter<long>(
        HekiVocabulary.BootProtectionFailures.Metric, "{vm}", "VMs whose guest kernel could not protect itself at boot, by reason.");

    /// <summary>heki-v2 list pages read past the host's buffer.</summary>
    public static readonly Counter<long> HostIntegrityFaults = Meter.CreateCounter<long>(
        HekiVocabulary.HostIntegrityFaults.Metric, "{page}", "heki-v2 PROTECT_MEMORY list pages claiming more than 169 ranges (read past the host buffer).");

    /// <summary>Simulated attacks by kind and verdict (recorded by the simulation's guest kernels).</summary>
    public static readonly Counter<long> Attacks = Meter.CreateCounter<long>(
        "heki.attacks", "{attack}", "Simulated attacks by kind and verdict (blocked, succeeded).");

    /// <summary>Faults a chaos run injected, by profile and kind (heki chaos, or heki simulate with a chaos section).</summary>
    public static readonly Counter<long> ChaosFaults = Meter.CreateCounter<long>(
        HekiVocabulary.ChaosFaults.Metric, "{fault}", "Faults a chaos run injected, by kind.");

    /// <summary>Checks the chaos oracle made, by profile and invariant.</summary>
    public static readonly Counter<long> ChaosChecks = Meter.CreateCounter<long>(
        HekiVocabulary.ChaosChecks.Metric, "{check}", "Invariant checks the chaos oracle made, by invariant.");

    /// <summary>Findings of the chaos oracle, by profile, invariant and label (violation, or the RFC defect).</summary>
    public static readonly Counter<long> ChaosFindings = Meter.CreateCounter<long>(
        HekiVocabulary.ChaosFindings.Metric, "{finding}", "Findings of the chaos oracle, by invariant and label (violation or RFC defect).");

    /// <summary>Live VMs.</summary>
    public static readonly UpDownCounter<long> ActiveVms = Meter.CreateUpDownCounter<long>(
        "heki.vms.active", "{vm}", "VMs currently running.");

    /// <summary>Live vCPUs.</summary>
    public static readonly UpDownCounter<long> ActiveVcpus = Meter.CreateUpDownCounter<long>(
        "heki.vcpus.active", "{vcpu}", "vCPUs currently running.");

    /// <summary>Attribute runs held by all VM stores (the store's cost grows with these, not with pages).</summary>
    public static readonly UpDownCounter<long> StoreRuns = Meter.CreateUpDownCounter<long>(
        "heki.store.runs", "{run}", "Runs of equal attributes held by all VMs' attribute stores.");

    /// <summary>Spans the export queue dropped (known at the end of a run: the SDK reports drops when it shuts down).</summary>
    public static readonly ObservableCounter<long> SpansDropped = Meter.CreateObservableCounter(
        HekiVocabulary.SpansDropped.Metric, () => TelemetryLosses.SpansDropped, "{span}", "Sampled spans the export queue dropped.");

    /// <summary>Exports an exporter reported as failed.</summary>
    public static readonly ObservableCounter<long> ExportFailures = Meter.CreateObservableCounter(
        HekiVocabulary.ExportFailures.Metric, () => TelemetryLosses.ExportFailures, "{export}", "Exports an exporter reported as failed.");

    /// <summary>
    /// Creates every counter series the run can reach at 0 (both profiles), so each exists from the first scrape on:
    /// a count made before Prometheus first saw its series would otherwise never show in rate() or increase().
    /// Per-VM series (with <see cref="TelemetryOptions.PerVmLabelLimit"/>) appear with their VM.
    /// </summary>
    public static void CreateSeries()
    {
        foreach (var profile in new[] { HekiTagValues.Of(Memory.HekiProfile.Hardened), HekiTagValues.Of(Memory.HekiProfile.HekiV2) })
        {
            foreach (var origin in HekiTagValues.Origins)
            {
                foreach (var kind in HekiTagValues.Kinds)
                {
                    foreach (var outcome in HekiTagValues.Outcomes)
                        Accesses.Add(0, new TagList { { HekiTags.Profile, profile }, { HekiTags.AccessKind, kind }, { HekiTags.Outcome, outcome }, { HekiTags.Origin, origin } });
                }

                TranslationFills.Add(0, new TagList { { HekiTags.Profile, profile }, { HekiTags.Origin, origin } });
            }

            foreach (var exception in new[] { HekiTagValues.PageFault, HekiTagValues.GeneralProtection })
                Violations.Add(0, new TagList { { HekiTags.Profile, profile }, { HekiTags.Exception, exception } });
            foreach (var hypercall in new[] { HekiTagValues.ProtectMemory, HekiTagValues.LockCrUpdate })
            {
                foreach (var result in HekiTagValues.Results)
                    Hypercalls.Add(0, new TagList { { HekiTags.Hypercall, hypercall }, { HekiTags.Result, result }, { HekiTags.Profile, profile }, { HekiTags.HypercallStage, HekiTagValues.StageVm } });
                Hypercalls.Add(0, new TagList { { HekiTags.Hypercall, hypercall }, { HekiTags.Result, "eperm" }, { HekiTags.Profile, profile }, { HekiTags.HypercallStage, HekiTagValues.StageVcpu } });
            }

            foreach (var source in new[] { HekiTagValues.Guest, HekiTagValues.Host })
                ImmutableRejections.Add(0, new TagList { { HekiTags.Profile, profile }, { HekiTags.Source, source } });
            foreach (var site in Enum.GetValues<Memory.WarningSite>())
            {
                WarningsEmitted.Add(0, new TagList { { HekiTags.WarningSite, HekiTagValues.Of(site) }, { HekiTags.Profile, profile } });
                WarningsSuppressed.Add(0, new TagList { { HekiTags.WarningSite, HekiTagValues.Of(site) }, { HekiTags.Profile, profile } });
            }

            TranslationInvalidations.Add(0, new KeyValuePair<string, object?>(HekiTags.Profile, profile));
            foreach (var cr in new[] { 0, 4 })
                CrPinBlocks.Add(0, new TagList { { HekiTags.Profile, profile }, { HekiTags.ControlRegister, HekiTagValues.Cr(cr) } });
            foreach (var reason in HekiTagValues.Results.Skip(1).Append(HekiTagValues.Rejected))
                BootProtectionFailures.Add(0, new TagList { { HekiTags.Profile, profile }, { HekiTags.Reason, reason } });
            HostIntegrityFaults.Add(0, new KeyValuePair<string, object?>(HekiTags.Profile, profile));
        }
    }
}
