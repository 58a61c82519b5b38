using System.Globalization;
using System.Text;
using System.Text.Json;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Cli.Journal;

/// <summary>
/// What <c>heki journal</c> prints for each VM of a journal, as text for people or as JSON (docs/reliability.md,
/// "Reading a journal"): its shape and profile, its protected ranges (maximal runs of one attribute word, gfns with the
/// end exclusive), its CR pins and registers, and what the journal keeps of it (events, snapshots).
/// </summary>
/// <remarks>Each VM is rendered whole and written at once, so a journal of 10,000 VMs costs one VM's text at a time.</remarks>
public sealed class JournalListing(TextWriter output, string journal, bool json)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly (int Bit, string Name)[] Cr0Bits =
        [(0, "PE"), (1, "MP"), (2, "EM"), (3, "TS"), (4, "ET"), (5, "NE"), (16, "WP"), (18, "AM"), (29, "NW"), (30, "CD"), (31, "PG")];

    private static readonly (int Bit, string Name)[] Cr4Bits = [(11, "UMIP"), (16, "FSGSBASE"), (20, "SMEP"), (21, "SMAP"), (23, "CET")];

    private long _vms;
    private long _destroyed;
    private long _events;
    private long _snapshots;
    private bool _first = true;
    private bool _started;

    /// <summary>Starts the listing (the JSON object's opening).</summary>
    public void Begin()
    {
        _started = true;
        if (json)
            output.Write("{\"journal\":" + JsonSerializer.Serialize(journal) + ",\"vms\":[");
    }

    /// <summary>Writes one VM.</summary>
    public void Add(JournaledVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.Exists)
            _vms++;
        else
            _destroyed++;
        _events += vm.Events;
        _snapshots += vm.Snapshots.Count;
        output.Write(json ? Json(vm, _first) : Text(vm));
        _first = false;
    }

    /// <summary>Ends the listing with the totals.</summary>
    public void End() => End(null);

    /// <summary>
    /// Ends a listing cut short by <paramref name="problem"/> (a VM that cannot be read): the JSON document is still whole,
    /// with <c>"error"</c> before the totals of the VMs listed; text output says nothing more (the caller says the problem).
    /// </summary>
    public void Fail(string problem)
    {
        if (_started && json)
            End(problem);
    }

    private void End(string? problem)
    {
        if (json)
        {
            var error = problem is null ? "" : ",\"error\":" + JsonSerializer.Serialize(problem);
            output.WriteLine(string.Create(Inv,
                $"]{error},\"totals\":{{\"vms\":{_vms},\"destroyed\":{_destroyed},\"events\":{_events},\"snapshots\":{_snapshots}}}}}"));
            return;
        }

        var destroyed = _destroyed > 0 ? $" and {Count(_destroyed)} destroyed" : "";
        output.WriteLine(_vms + _destroyed == 0
            ? $"journal {Printable.Escape(journal)}: no VMs"
            : $"journal {Printable.Escape(journal)}: {Plural(_vms, "VM")}{destroyed}; {Plural(_events, "event")}, {Plural(_snapshots, "snapshot")}");
    }

    private static string Text(JournaledVm vm)
    {
        var text = new StringBuilder();
        var state = vm.State;
        var kept = $"{Plural(vm.Events, "event")}{(vm.HighestSequenceNr > 0 ? $" (up to sequence number {Count(vm.HighestSequenceNr)})" : "")}, " +
            $"{Plural(vm.Snapshots.Count, "snapshot")}{(vm.Snapshots.Count > 0 ? $" (at {string.Join(", ", vm.Snapshots.Select(Count))})" : "")}";
        if (state.Config is not { } config)
        {
            text.Append(Inv, $"VM {Printable.Escape(vm.VmId)}: destroyed; the journal keeps {kept}\n");
            return text.ToString();
        }

        text.Append(Inv, $"VM {Printable.Escape(vm.VmId)}: {config.Profile.Name()}, {Plural(config.VcpuCount, "vCPU")} x {Count((long)(config.MemoryPages / VmConfig.PagesPerMiB))} MiB, ")
            .Append(Inv, $"MBEC {(config.Mbec ? "on" : "off")}{(config.PrivateMemory ? ", private memory" : "")}; {kept}\n");
        text.Append(Inv, $"  pins: CR0 {Pins(state.Cr0Pins, Cr0Bits)}, CR4 {Pins(state.Cr4Pins, Cr4Bits)}\n");
        AppendRegisters(text, state.ControlRegisters);
        var pages = state.Runs.Aggregate(0UL, (n, run) => n + (run.End - run.Start));
        text.Append(Inv, $"  {Plural(state.Runs.Length, "protected range")}, {Plural((long)Math.Min(pages, long.MaxValue), "page")}");
        text.Append(state.Runs.Length == 0 ? "\n" : " (gfns, end exclusive):\n");
        var rows = state.Runs.Select(run => (Gfns: $"0x{run.Start:x}-0x{run.End:x}", What: Describe(run.Word),
            Pages: Plural((long)Math.Min(run.End - run.Start, long.MaxValue), "page"))).ToList();
        var gfnsWidth = rows.Count == 0 ? 0 : rows.Max(r => r.Gfns.Length);
        var whatWidth = rows.Count == 0 ? 0 : rows.Max(r => r.What.Length);
        foreach (var (gfns, what, count) in rows)
            text.Append("    ").Append(gfns.PadRight(gfnsWidth)).Append("  ").Append(what.PadRight(whatWidth)).Append("  ").Append(count).Append('\n');
        return text.ToString();
    }

    /// <summary>Each group of consecutive vCPUs with the same non-zero registers on one line.</summary>
    private static void AppendRegisters(StringBuilder text, ulong[][] registers)
    {
        var from = 0;
        for (var v = 1; v <= registers.Length; v++)
        {
            if (v < registers.Length && registers[v].AsSpan().SequenceEqual(registers[from]))
                continue;
            var which = v - from == 1 ? $"vCPU {from}" : $"vCPUs {from}-{v - 1}";
            var set = registers[from].Select((value, cr) => (value, cr)).Where(r => r.value != 0).Select(r => $"CR{r.cr} 0x{r.value:x}").ToList();
            text.Append(Inv, $"  {which}: {(set.Count == 0 ? "every control register 0" : string.Join(", ", set))}\n");
            from = v;
        }
    }

    /// <summary>The heki permissions of a word as the kernel log writes them, and what else it carries: <c>r_x immutable</c>.</summary>
    private static string Describe(ulong word)
    {
        var heki = HekiAttributes.FromKvm(word);
        var parts = new List<string>();
        if ((word & HekiAttributes.KvmHekiMask) != 0)
            parts.Add(HekiAttributes.Format(heki) + ((heki & HekiAttributes.Immutable) != 0 ? " immutable" : ""));
        if ((word & HekiAttributes.KvmPrivate) != 0)
            parts.Add("private");
        var other = word & ~(HekiAttributes.KvmHekiMask | HekiAttributes.KvmPrivate);
        if (other != 0)
            parts.Add($"word 0x{word:x}");
        return string.Join(", ", parts);
    }

    private static string Pins(ulong pins, (int Bit, string Name)[] names)
    {
        if (pins == 0)
            return "none";
        var known = names.Where(n => (pins & (1UL << n.Bit)) != 0).Select(n => n.Name).ToList();
        var unnamed = names.Aggregate(pins, (rest, n) => rest & ~(1UL << n.Bit));
        if (unnamed != 0)
            known.Add($"0x{unnamed:x}");
        return $"0x{pins:x} ({string.Join(" ", known)})";
    }

    private static string Json(JournaledVm vm, bool first)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var state = vm.State;
            writer.WriteStartObject();
            writer.WriteString("vm", vm.VmId);
            writer.WriteBoolean("exists", vm.Exists);
            if (state.Config is { } config)
            {
                writer.WriteString("profile", config.Profile.Name());
                writer.WriteNumber("memory_mb", config.MemoryPages / VmConfig.PagesPerMiB);
                writer.WriteNumber("vcpus", config.VcpuCount);
                writer.WriteBoolean("mbec", config.Mbec);
                writer.WriteBoolean("private_mem", config.PrivateMemory);
            }

            writer.WriteNumber("events", vm.Events);
            writer.WriteNumber("highest_sequence_nr", vm.HighestSequenceNr);
            writer.WriteStartArray("snapshots");
            foreach (var sequenceNr in vm.Snapshots)
                writer.WriteNumberValue(sequenceNr);
            writer.WriteEndArray();
            if (state.Config is not null)
            {
                writer.WriteNumber("cr0_pins", state.Cr0Pins);
                writer.WriteNumber("cr4_pins", state.Cr4Pins);
                writer.WriteStartArray("control_registers");
                foreach (var registers in state.ControlRegisters)
                {
                    writer.WriteStartArray();
                    foreach (var value in registers)
                        writer.WriteNumberValue(value);
                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
                writer.WriteStartArray("ranges");
                foreach (var run in state.Runs)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("start_gfn", run.Start);
                    writer.WriteNumber("end_gfn", run.End);
                    writer.WriteNumber("perm", HekiAttributes.FromKvm(run.Word));
                    writer.WriteBoolean("immutable", (run.Word & HekiAttributes.KvmHekiImmutable) != 0);
                    writer.WriteNumber("attributes", run.Word);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return (first ? "" : ",") + Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Count(long value) => value.ToString("N0", Inv);

    private static string Plural(long value, string noun) => Simulate.ReportFormat.Count(value, noun);
}
