using System.Globalization;
using System.Text;
using System.Text.Json;
using HekiActors.Memory;
using HekiActors.Simulation;
using HekiActors.Simulation.Guest;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// The report's guest-kernel section, text and JSON: which kernel, what its boot protected and cost per VM, what each
/// module load cost, and what unloads could not undo (immutable pages quarantined for good). Its own section, so the
/// rest of the report keeps its shape; fields are documented in docs/guest-kernels.md.
/// </summary>
public static class GuestKernelReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The text section, one column per profile; empty when no result carries a guest-kernel report.</summary>
    public static string Render(IReadOnlyList<SimulationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var reports = results.Where(r => r.GuestKernel is not null).ToList();
        if (reports.Count == 0)
            return "";
        var first = reports[0].GuestKernel!;
        var text = new StringBuilder();
        text.Append('\n').Append("guest kernel: ").Append(first.Kernel);
        if (first.Format != first.Kernel)
            text.Append(" (").Append(first.Format).Append(')');
        text.Append(", modules at boot ").Append(first.BootModules).Append(", during the run ").Append(first.RunModules).Append('\n');

        var rows = new List<string[]> { new[] { "", }.Concat(reports.Select(r => r.Spec.Profile.Name())).ToArray() };
        void Row(string label, Func<GuestKernelReport, string> cell) => rows.Add([label, .. reports.Select(r => cell(r.GuestKernel!))]);
        Row("boots", k => Count(k[KernelCounter.Boots]) + (k[KernelCounter.Resumes] > 0 ? $" (and {Count(k[KernelCounter.Resumes])} resumed)" : ""));
        Row("per boot: PROTECT_MEMORY calls / ranges / list pages", k =>
            $"{Per(k.PerBoot(KernelCounter.BootProtectCalls))} / {Per(k.PerBoot(KernelCounter.BootRanges))} / {Per(k.PerBoot(KernelCounter.BootListPages))}");
        Row("per boot: LOCK_CR_UPDATE calls", k => Per(k.PerBoot(KernelCounter.CrPinCalls)));
        Row("per boot: pages protected text / rodata / data", k =>
            $"{Per(k.PerBoot(KernelCounter.BootTextPages))} / {Per(k.PerBoot(KernelCounter.BootRodataPages))} / {Per(k.PerBoot(KernelCounter.BootDataPages))}");
        Row("boot protections failed", k => k[KernelCounter.BootProtectFailures] + k[KernelCounter.CrPinFailures] == 0
            ? "0"
            : $"{Count(k[KernelCounter.BootProtectFailures])} PROTECT_MEMORY (first ret {k.Counters.FirstBootFailure}), {Count(k[KernelCounter.CrPinFailures])} LOCK_CR_UPDATE");
        Row("unprotected pages below the kernel", k => Count((long)k.UnprotectedBelowKernel));
        Row("init pages dropped after boot (unprotected)", k => Count((long)k.InitPagesDropped));
        Row("module loads (at boot)", k => $"{Count(k[KernelCounter.ModuleLoads])} ({Count(k[KernelCounter.BootModuleLoads])})");
        Row("  failed / refused: module area full", k => $"{Count(k[KernelCounter.ModuleLoadFailures])} / {Count(k[KernelCounter.ModuleLoadsOutOfMemory])}");
        Row("  per load: hypercalls / ranges / list pages", k =>
            $"{Per(LoadHypercalls(k) / Math.Max(1.0, k[KernelCounter.ModuleLoads]))} / {Per(k.PerModuleLoad(KernelCounter.ModuleLoadRanges))} / {Per(k.PerModuleLoad(KernelCounter.ModuleLoadListPages))}");
        Row("  pages text / rodata / ro_after_init / data", k =>
            $"{Count(k[KernelCounter.ModuleTextPages])} / {Count(k[KernelCounter.ModuleRodataPages])} / {Count(k[KernelCounter.ModuleRoAfterInitPages])} / {Count(k[KernelCounter.ModuleDataPages])}");
        Row("ro_after_init downgrades (kernel / modules)", k => $"{Count(k[KernelCounter.KernelDowngrades])} / {Count(k[KernelCounter.ModuleInitDowngrades])}");
        Row("module unloads", k => Count(k[KernelCounter.ModuleUnloads]));
        Row("  text+rodata release refused (-EPERM)", k => Count(k[KernelCounter.ImmutableReleasesRefused]));
        Row("  pages quarantined for good / returned", k => $"{Count(k[KernelCounter.PagesQuarantined])} / {Count(k[KernelCounter.PagesReturned])}");
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            var line = new StringBuilder(row[0].PadRight(widths[0]));
            for (var c = 1; c < row.Length; c++)
                line.Append("  ").Append(row[c].PadLeft(widths[c]));
            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        if (reports.Any(r => r.GuestKernel![KernelCounter.PagesQuarantined] > 0))
            text.Append("  (immutable pages stay immutable: an unloaded module's text and rodata can never be reused)\n");
        return text.ToString();
    }

    /// <summary>Writes <c>"guest_kernel": {...}</c> into a run's JSON object (nothing when the result has no such report).</summary>
    public static void Write(Utf8JsonWriter json, SimulationResult result)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(result);
        if (result.GuestKernel is not { } k)
            return;
        json.WriteStartObject("guest_kernel");
        json.WriteString("kernel", k.Kernel);
        json.WriteString("format", k.Format);
        json.WriteString("boot_modules", k.BootModules);
        json.WriteString("run_modules", k.RunModules);
        json.WriteNumber("boots", k[KernelCounter.Boots]);
        json.WriteNumber("resumes", k[KernelCounter.Resumes]);
        json.WriteStartObject("per_boot");
        json.WriteNumber("protect_calls", k.PerBoot(KernelCounter.BootProtectCalls));
        json.WriteNumber("ranges", k.PerBoot(KernelCounter.BootRanges));
        json.WriteNumber("list_pages", k.PerBoot(KernelCounter.BootListPages));
        json.WriteNumber("cr_pin_calls", k.PerBoot(KernelCounter.CrPinCalls));
        json.WriteNumber("text_pages", k.PerBoot(KernelCounter.BootTextPages));
        json.WriteNumber("rodata_pages", k.PerBoot(KernelCounter.BootRodataPages));
        json.WriteNumber("data_pages", k.PerBoot(KernelCounter.BootDataPages));
        json.WriteEndObject();
        json.WriteNumber("boot_protect_failures", k[KernelCounter.BootProtectFailures]);
        json.WriteNumber("boot_cr_pin_failures", k[KernelCounter.CrPinFailures]);
        json.WriteNumber("first_boot_failure_ret", k.Counters.FirstBootFailure);
        json.WriteNumber("unprotected_pages_below_kernel", k.UnprotectedBelowKernel);
        json.WriteNumber("init_pages_dropped", k.InitPagesDropped);
        json.WriteNumber("module_area_pages", k.ModuleAreaPages);
        json.WriteStartObject("module_loads");
        json.WriteNumber("total", k[KernelCounter.ModuleLoads]);
        json.WriteNumber("at_boot", k[KernelCounter.BootModuleLoads]);
        json.WriteNumber("failed", k[KernelCounter.ModuleLoadFailures]);
        json.WriteNumber("out_of_module_memory", k[KernelCounter.ModuleLoadsOutOfMemory]);
        json.WriteNumber("hypercalls", LoadHypercalls(k));
        json.WriteNumber("ranges", k[KernelCounter.ModuleLoadRanges]);
        json.WriteNumber("list_pages", k[KernelCounter.ModuleLoadListPages]);
        json.WriteNumber("text_pages", k[KernelCounter.ModuleTextPages]);
        json.WriteNumber("rodata_pages", k[KernelCounter.ModuleRodataPages]);
        json.WriteNumber("ro_after_init_pages", k[KernelCounter.ModuleRoAfterInitPages]);
        json.WriteNumber("data_pages", k[KernelCounter.ModuleDataPages]);
        json.WriteEndObject();
        json.WriteNumber("kernel_downgrades", k[KernelCounter.KernelDowngrades]);
        json.WriteNumber("module_init_downgrades", k[KernelCounter.ModuleInitDowngrades]);
        json.WriteStartObject("module_unloads");
        json.WriteNumber("total", k[KernelCounter.ModuleUnloads]);
        json.WriteNumber("immutable_release_refused", k[KernelCounter.ImmutableReleasesRefused]);
        json.WriteNumber("immutable_release_accepted", k[KernelCounter.ImmutableReleasesAccepted]);
        json.WriteNumber("mutable_releases", k[KernelCounter.MutableReleases]);
        json.WriteNumber("mutable_release_failures", k[KernelCounter.MutableReleaseFailures]);
        json.WriteNumber("pages_quarantined", k[KernelCounter.PagesQuarantined]);
        json.WriteNumber("pages_returned", k[KernelCounter.PagesReturned]);
        json.WriteEndObject();
        json.WriteNumber("kernel_hypercalls", k[KernelCounter.KernelHypercalls]);
        json.WriteEndObject();
    }

    /// <summary>Hypercalls a module load costs: its PROTECT_MEMORY call, and the ro_after_init downgrade after init.</summary>
    private static long LoadHypercalls(GuestKernelReport k) => k[KernelCounter.ModuleLoads] + k[KernelCounter.ModuleInitDowngrades];

    private static string Count(long value) => ReportFormat.Count(value);

    private static string Per(double value) => value == Math.Floor(value) ? ((long)value).ToString("N0", Inv) : value.ToString("N1", Inv);
}
