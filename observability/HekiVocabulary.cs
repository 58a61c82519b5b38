using System.Globalization;

namespace HekiActors.Observability;

/// <summary>
/// One count of the vocabulary: its JSON key, its label in the table and on the progress line, the metric that
/// carries it (and the PromQL that reads it back for one profile), and its definition. docs/observability.md
/// repeats every definition word for word (a test checks it).
/// </summary>
/// <param name="Key">The field under <c>counts</c> in the JSON report (snake_case).</param>
/// <param name="Label">The row label in the report table and the word on the progress line.</param>
/// <param name="Metric">The OpenTelemetry instrument that counts it.</param>
/// <param name="PrometheusSeries">The instrument's Prometheus series name.</param>
/// <param name="Matchers">Label matchers that select the count's series (empty: all of them).</param>
/// <param name="Definition">What is counted, where it is decided.</param>
/// <param name="Value">The count in a run's <see cref="HekiCounts"/>.</param>
/// <param name="InTable">Whether the report table shows it as a row (the JSON always has it).</param>
public sealed record HekiCount(string Key, string Label, string Metric, string PrometheusSeries, string Matchers, string Definition,
    Func<HekiCounts, long> Value, bool InTable = true)
{
    /// <summary>The PromQL that gives this count for one profile: the sum of its series.</summary>
    public string PromQl(string profile)
    {
        var matchers = $"{PrometheusLabel(HekiTags.Profile)}=\"{profile}\"" + (Matchers.Length == 0 ? "" : "," + Matchers);
        return $"sum({PrometheusSeries}{{{matchers}}})";
    }

    /// <summary>An attribute name as Prometheus labels spell it (dots become underscores).</summary>
    public static string PrometheusLabel(string attribute) => attribute.Replace('.', '_');
}

/// <summary>One latency distribution of the vocabulary: its JSON key, table label, histogram and definition.</summary>
/// <param name="Unit">The histogram's unit ("ns" or "s"); the JSON report always gives nanoseconds.</param>
public sealed record HekiLatency(string Key, string Label, string Metric, string PrometheusSeries, string Unit, string Definition);

/// <summary>
/// One part of a latency of the vocabulary (issue 11): what the model spent on each event (service) or what the simulator
/// added while the event waited for a turn (queueing); per event, service + queueing = the whole latency. Report-only
/// (the table and the JSON <c>latency_ns</c>, under <see cref="Key"/>): no metric carries it.
/// </summary>
/// <param name="Of">The latency this is a part of.</param>
public sealed record HekiLatencyPart(string Key, string Label, HekiLatency Of, string Definition);

/// <summary>
/// THE vocabulary of HekiActors' figures (issue 9): every count the progress line, the report table, the JSON
/// report, the metrics and docs/observability.md show is defined here once, with one name and one meaning.
/// Add a count here first; the table, the JSON and the docs test pick it up from <see cref="Counts"/>.
/// </summary>
public static class HekiVocabulary
{
    private static readonly string Origin = HekiCount.PrometheusLabel(HekiTags.Origin);
    private static readonly string Outcome = HekiCount.PrometheusLabel(HekiTags.Outcome);
    private static readonly string Result = HekiCount.PrometheusLabel(HekiTags.Result);
    private static readonly string Stage = HekiCount.PrometheusLabel(HekiTags.HypercallStage);
    private static readonly string Verdict = HekiCount.PrometheusLabel(HekiTags.AttackVerdict);

    public static readonly HekiCount Accesses = new("accesses", "accesses", "heki.accesses", "heki_accesses_total", "",
        "Guest memory accesses a vCPU executed, workload and attack together; each ends permitted, with a #PF, or as an MMIO exit.",
        c => c.Accesses);

    public static readonly HekiCount WorkloadAccesses = new("workload_accesses", "workload accesses", "heki.accesses",
        "heki_accesses_total", $"{Origin}=\"{HekiTagValues.Workload}\"",
        "Accesses of the generated guest workload (RunWorkload), counted by the vCPU that ran them.",
        c => c.WorkloadAccesses);

    public static readonly HekiCount AttackAccesses = new("attack_accesses", "attack accesses", "heki.accesses",
        "heki_accesses_total", $"{Origin}=\"{HekiTagValues.Attack}\"",
        "Accesses sent to a vCPU one at a time as guest operations; in heki simulate only the attacker's probes are.",
        c => c.AttackAccesses);

    public static readonly HekiCount Permitted = new("permitted", "permitted", "heki.accesses", "heki_accesses_total",
        $"{Outcome}=\"ok\"", "Accesses the page permissions allowed (completed).", c => c.Permitted);

    public static readonly HekiCount PageFaults = new("page_faults", "#PF faults", "heki.accesses", "heki_accesses_total",
        $"{Outcome}=\"pf\"",
        "Accesses the page permissions forbid: the vCPU injected a #PF (write without W; kernel fetch without X with MBEC; hardened: read without R).",
        c => c.PageFaults);

    public static readonly HekiCount Mmio = new("mmio_exits", "MMIO exits", "heki.accesses", "heki_accesses_total",
        $"{Outcome}=\"mmio\"", "Accesses to a gpa outside guest memory: an MMIO exit, not a permission decision.", c => c.Mmio);

    public static readonly HekiCount CrPinBlocks = new("cr_pin_blocks", "CR-pin #GP blocks", "heki.cr_pin.blocks",
        "heki_cr_pin_blocks_total", "",
        "Guest CR0/CR4 writes the VM refused because they clear a pinned bit: #GP injected, the register kept.",
        c => c.CrPinBlocks);

    public static readonly HekiCount Violations = new("violations", "violations", "heki.violations", "heki_violations_total", "",
        "Guest actions Heki stopped by injecting an exception: #PF faults plus CR-pin #GP blocks, workload and attack.",
        c => c.Violations);

    public static readonly HekiCount Hypercalls = new("hypercalls", "hypercalls", "heki.hypercalls", "heki_hypercalls_total", "",
        "Heki hypercalls the guest made (PROTECT_MEMORY, LOCK_CR_UPDATE), counted by the guest's vCPU as it answers; heki.hypercall.stage says who decided (the VM, or the vCPU for a caller not at CPL 0).",
        c => c.Hypercalls);

    public static readonly HekiCount HypercallsFailed = new("hypercalls_failed", "  failed", "heki.hypercalls",
        "heki_hypercalls_total", $"{Result}!=\"ok\"", "Hypercalls that returned a negative errno.", c => c.HypercallsFailed);

    public static readonly HekiCount HypercallsRefusedCpl = new("hypercalls_refused_cpl", "  refused at CPL 3", "heki.hypercalls",
        "heki_hypercalls_total", $"{Stage}=\"{HekiTagValues.StageVcpu}\",{Result}=\"eperm\"",
        "Hypercalls refused with -EPERM by the vCPU because the caller was not at CPL 0 (never reach the VM).",
        c => c.HypercallsRefusedCpl);

    public static readonly HekiCount ImmutableRejections = new("immutable_rejections", "immutable rejections",
        "heki.immutable.rejections", "heki_immutable_rejections_total", "",
        "Permission changes refused with -EPERM because the range holds an immutable page.", c => c.ImmutableRejections);

    public static readonly HekiCount TranslationFills = new("translation_fills", "translation fills", "heki.translation.fills",
        "heki_translation_fills_total", "",
        "Translation misses served by the VM (the slow path): one per miss, workload and attack.", c => c.TranslationFills);

    public static readonly HekiCount TranslationInvalidations = new("translation_invalidations", "translations invalidated",
        "heki.translation.invalidations", "heki_translation_invalidations_total", "",
        "Cached translations vCPUs dropped for shootdowns after a change of permissions.", c => c.TranslationInvalidations);

    public static readonly HekiCount WarningsEmitted = new("warnings_emitted", "warnings emitted", "heki.warnings.emitted",
        "heki_warnings_emitted_total", "", "Kernel warnings the warning supervisor printed.", c => c.WarningsEmitted);

    public static readonly HekiCount WarningsSuppressed = new("warnings_suppressed", "warnings suppressed",
        "heki.warnings.suppressed", "heki_warnings_suppressed_total", "",
        "Kernel warnings the rate limit suppressed (10 per 5 s per call site; per VM in hardened).", c => c.WarningsSuppressed);

    public static readonly HekiCount BootProtectionFailures = new("boot_protection_failures", "boot protection failures",
        "heki.boot.protection_failures", "heki_boot_protection_failures_total", "",
        "VMs whose guest kernel could not protect itself at boot (its PROTECT_MEMORY or LOCK_CR_UPDATE failed): they run unprotected.",
        c => c.BootProtectionFailures);

    public static readonly HekiCount HostIntegrityFaults = new("host_integrity_faults", "host-integrity faults",
        "heki.host_integrity.faults", "heki_host_integrity_faults_total", "",
        "heki-v2 only: PROTECT_MEMORY list pages claiming more than 169 ranges, which the RFC reads past the host's buffer.",
        c => c.HostIntegrityFaults);

    public static readonly HekiCount AttacksBlocked = new("attacks_blocked", "attacks blocked", "heki.attacks", "heki_attacks_total",
        $"{Verdict}=\"blocked\"", "Attacks whose every probe Heki refused or faulted.", c => c.AttacksBlocked, InTable: false);

    public static readonly HekiCount AttacksSucceeded = new("attacks_succeeded", "attacks succeeded", "heki.attacks",
        "heki_attacks_total", $"{Verdict}=\"succeeded\"", "Attacks whose goal was reached: a defect of the profile, MBEC off, or a VM without boot protection let it through.",
        c => c.AttacksSucceeded, InTable: false);

    /// <summary>Hypercalls with one result each (ok, eperm, ...): JSON <c>hypercalls_by_result</c>.</summary>
    public static IReadOnlyList<HekiCount> HypercallsByResult { get; } = HekiTagValues.Results
        .Select((result, i) => new HekiCount("hypercalls_" + result, "  " + result, "heki.hypercalls", "heki_hypercalls_total",
            $"{Result}=\"{result}\"", $"Hypercalls that returned {ResultMeaning(result)}.", c => c.HypercallsByResult[i], InTable: false))
        .ToArray();

    /// <summary>Every count, in report order.</summary>
    public static IReadOnlyList<HekiCount> Counts { get; } =
    [
        Accesses, WorkloadAccesses, AttackAccesses, Permitted, PageFaults, Mmio, CrPinBlocks, Violations, Hypercalls, HypercallsFailed,
        HypercallsRefusedCpl, .. HypercallsByResult, ImmutableRejections, TranslationFills, TranslationInvalidations, WarningsEmitted,
        WarningsSuppressed, BootProtectionFailures, HostIntegrityFaults, AttacksBlocked, AttacksSucceeded,
    ];

    public static readonly HekiLatency FastPath = new("fast_path", "fast path", "heki.fastpath.duration",
        "heki_fastpath_duration_nanoseconds", "ns",
        "Time per access on a cached translation, per access: each timed group of accesses weighs as many accesses as it covered.");

    public static readonly HekiLatency SlowPath = new("slow_path", "slow path", "heki.slowpath.duration",
        "heki_slowpath_duration_seconds", "s",
        "A translation miss, from the vCPU's request to the VM until the translation arrives (queueing included).");

    public static readonly HekiLatency Hypercall = new("hypercall", "hypercall", "heki.hypercall.duration",
        "heki_hypercall_duration_seconds", "s",
        "A hypercall from its arrival at the guest's vCPU to the reply (the VM's validation, journal write and shootdowns included).");

    /// <summary>Every latency distribution, in report order.</summary>
    public static IReadOnlyList<HekiLatency> Latencies { get; } = [FastPath, SlowPath, Hypercall];

    public static readonly HekiLatencyPart SlowPathService = new("slow_path_service", "  service", SlowPath,
        "The VM's own time on a translation miss: from taking the request up to sending the translation.");

    public static readonly HekiLatencyPart SlowPathQueueing = new("slow_path_queueing", "  queueing", SlowPath,
        "A translation miss's waits for a turn: the request in the VM's mailbox and the translation in the vCPU's (slow path minus service).");

    public static readonly HekiLatencyPart HypercallService = new("hypercall_service", "  service", Hypercall,
        "The model's time on a hypercall: from the VM taking it up (or the vCPU refusing it) to the answer, its journal write and shootdowns included.");

    public static readonly HekiLatencyPart HypercallQueueing = new("hypercall_queueing", "  queueing", Hypercall,
        "A hypercall's waits for a turn: the call in the VM's mailbox, behind the VM's change in progress, and the answer in the vCPU's (hypercall minus service).");

    public static readonly HekiLatencyPart ProtectMemory = new("protect_memory", "  PROTECT_MEMORY", Hypercall,
        "PROTECT_MEMORY calls alone, those the VM answered: from the call's arrival at the guest's vCPU to the reply, as the hypercall latency (the VM's queue, validation, journal write and shootdowns included); LOCK_CR_UPDATE and calls the vCPU refused itself left out.");

    /// <summary>
    /// The service and queueing parts of the slow path and the hypercall, then the hypercall's PROTECT_MEMORY calls alone, in
    /// report order (each right after its latency).
    /// </summary>
    public static IReadOnlyList<HekiLatencyPart> LatencyParts { get; } =
        [SlowPathService, SlowPathQueueing, HypercallService, HypercallQueueing, ProtectMemory];

    /// <summary>Telemetry's own losses: spans the export queue had no room for.</summary>
    public static readonly HekiCount SpansDropped = new("spans_dropped", "spans dropped", "heki.telemetry.spans.dropped",
        "heki_telemetry_spans_dropped_total", "",
        "Sampled spans that never reached a span exporter (its queue was full); none are dropped while the queue keeps up.",
        _ => 0, InTable: false);

    /// <summary>Telemetry's own losses: exports an exporter reported as failed.</summary>
    public static readonly HekiCount ExportFailures = new("export_failures", "export failures", "heki.telemetry.export.failures",
        "heki_telemetry_export_failures_total", "",
        "Exports (a batch of spans or of metrics) an exporter reported as failed, e.g. no OTLP collector listening.",
        _ => 0, InTable: false);

    private static readonly string ChaosLabel = HekiCount.PrometheusLabel(HekiTags.ChaosLabel);

    // Chaos runs (docs/chaos.md): the JSON key is the field of `heki chaos --report` (and, for faults, of heki
    // simulate's report of a scenario with a chaos section). These are not HekiCounts of a simulation: Value is unused.

    /// <summary>Chaos: faults injected, by kind (<see cref="HekiTags.ChaosFault"/>).</summary>
    public static readonly HekiCount ChaosFaults = new("faults_injected", "faults injected", "heki.chaos.faults",
        "heki_chaos_faults_total", "",
        "Faults a chaos run injected (heki chaos, or heki simulate with a chaos section), by kind (heki.chaos.fault); each decided from the seed and the operation.",
        _ => 0, InTable: false);

    /// <summary>Chaos: invariant checks, by invariant (<see cref="HekiTags.ChaosInvariant"/>).</summary>
    public static readonly HekiCount ChaosChecks = new("checks", "invariant checks", "heki.chaos.checks", "heki_chaos_checks_total", "",
        "Checks the chaos oracle made of an acknowledged result against its invariants, by invariant (heki.chaos.invariant, 1 to 5).",
        _ => 0, InTable: false);

    /// <summary>Chaos: findings, by invariant and label.</summary>
    public static readonly HekiCount ChaosFindings = new("findings", "findings", "heki.chaos.findings", "heki_chaos_findings_total", "",
        "Results the chaos oracle found breaking an invariant, by invariant and heki.chaos.label: violation (a bug), or the RFC defect that explains it (heki-v2).",
        _ => 0, InTable: false);

    /// <summary>Chaos: findings no RFC defect explains.</summary>
    public static readonly HekiCount ChaosViolations = new("invariant_violations", "invariant violations", "heki.chaos.findings",
        "heki_chaos_findings_total", $"{ChaosLabel}=\"{HekiTagValues.Violation}\"",
        "Findings no RFC defect explains: bugs. The bar of a chaos run is 0.", _ => 0, InTable: false);

    /// <summary>Chaos: findings an RFC defect explains.</summary>
    public static readonly HekiCount ChaosDefects = new("rfc_defect_findings", "RFC defect findings", "heki.chaos.findings",
        "heki_chaos_findings_total", $"{ChaosLabel}!=\"{HekiTagValues.Violation}\"",
        "Findings an RFC defect explains (dropped_downgrade, half_applied_batch, host_integrity_fault): expected under heki-v2, never under hardened.",
        _ => 0, InTable: false);

    /// <summary>Chaos: violations of invariant 3.</summary>
    public static readonly HekiCount ChaosLostChanges = new("lost_acknowledged_changes", "lost acknowledged changes", "heki.chaos.findings",
        "heki_chaos_findings_total", $"{HekiCount.PrometheusLabel(HekiTags.ChaosInvariant)}=\"3\",{ChaosLabel}=\"{HekiTagValues.Violation}\"",
        "Violations of invariant 3: an acknowledged change lost or not in force after a fault, crash or restart.", _ => 0, InTable: false);

    /// <summary>Every chaos count, in report order.</summary>
    public static IReadOnlyList<HekiCount> Chaos { get; } = [ChaosFaults, ChaosChecks, ChaosFindings, ChaosViolations, ChaosDefects, ChaosLostChanges];

    private static string ResultMeaning(string result) => result switch
    {
        "ok" => "0 (or the ABI version)",
        "other" => "a negative value not named above",
        _ => "-" + result.ToUpperInvariant(),
    };

    /// <summary>A count for the table: grouped digits.</summary>
    public static string Format(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
