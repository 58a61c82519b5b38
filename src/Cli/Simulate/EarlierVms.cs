using System.Globalization;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Memory.Vm;
using HekiActors.Simulation;

namespace HekiActors.Cli.Simulate;

/// <summary>What a run does with the VMs an earlier run left in its SQLite journal (issue 8 item 4).</summary>
public enum EarlierVms
{
    /// <summary>Neither <c>--resume</c> nor <c>--fresh</c>: a journal that holds VMs is refused, nothing runs.</summary>
    Refuse,

    /// <summary><c>--resume</c>: the run takes over the VMs of its ids, their protections and pins in force.</summary>
    Resume,

    /// <summary><c>--fresh</c>: every VM of the journal is destroyed first (said on standard error, never recorded).</summary>
    Fresh,
}

/// <summary>
/// Reads a run's journal before anything runs and decides what the run does with the VMs an earlier run left there
/// (docs/reliability.md, "A run on a journal that holds VMs"): never throws recovered protections away silently.
/// </summary>
internal static class EarlierVmsCheck
{
    /// <summary>The <see cref="JournalStart"/> of <paramref name="spec"/>'s run (its journal is locked by the caller).</summary>
    /// <param name="notes">Where the decision is said (standard error).</param>
    /// <exception cref="UsageException">
    /// The journal holds VMs and neither <c>--resume</c> nor <c>--fresh</c> was given, or <c>--resume</c> would take over a
    /// VM of another shape or profile than the run's.
    /// </exception>
    public static JournalStart Decide(SimulationSpec spec, EarlierVms choice, TextWriter notes)
    {
        if (spec.Journal != JournalKind.Sqlite || spec.SqlitePath is not { } path)
            return JournalStart.None;
        // Nothing to resume or destroy is not an error (a script may always pass --resume), but it is said: a mistyped
        // path must not look like a resumed run.
        var vms = File.Exists(path) ? Read(path) : null;
        if (vms is null || vms.Count == 0)
        {
            var holds = vms is null ? "does not exist yet" : "holds no VMs";
            if (choice == EarlierVms.Resume)
                notes.WriteLine($"heki simulate: --resume: journal {path} {holds}; nothing to take over, {Booting(spec.Vms, all: true)}");
            else if (choice == EarlierVms.Fresh)
                notes.WriteLine($"heki simulate: --fresh: journal {path} {holds}; nothing to destroy");
            return JournalStart.None;
        }

        switch (choice)
        {
            case EarlierVms.Fresh:
                notes.WriteLine($"heki simulate: --fresh: destroying the {Vms(vms.Count)} an earlier run left in journal {path} ({Ids(vms.Keys)}) " +
                    "before the run; this is not part of the run or its recording");
                return JournalStart.Fresh(vms.Keys);
            case EarlierVms.Resume:
                return Resume(spec, path, vms, notes);
            default:
                throw new UsageException($"journal {path} holds {Vms(vms.Count)} an earlier run left ({Ids(vms.Keys)}); nothing ran: " +
                    "--resume continues with them (their protections and pins stay in force), --fresh destroys them first " +
                    $"('heki journal {path}' lists them)");
        }
    }

    private static JournalStart Resume(SimulationSpec spec, string path, SortedDictionary<string, VmSnapshot> vms, TextWriter notes)
    {
        var wanted = VmConfig.FromMegabytes(spec.MemoryMbPerVm, spec.VcpusPerVm, spec.Mbec, privateMemory: false, spec.Profile);
        var taken = new Dictionary<string, VmSnapshot>(StringComparer.Ordinal);
        var others = new List<string>();
        foreach (var (id, vm) in vms)
        {
            if (!IsRunVm(id, spec.Vms))
            {
                others.Add(id);
                continue;
            }

            if (vm.Config != wanted)
                throw new UsageException($"--resume: VM {Printable.Escape(id)} in journal {path} is {Shape(vm.Config!)}, but this run's VMs are {Shape(wanted)}; " +
                    "resume with the scenario and options that made the journal, or start over with --fresh");
            taken.Add(id, vm);
        }

        var note = $"heki simulate: --resume: taking over {Vms(taken.Count)} from journal {path}" +
            (taken.Count > 0 ? $" ({Ids(taken.Keys)})" : "") + $"; {Booting(spec.Vms - taken.Count, all: taken.Count == 0)}";
        if (others.Count > 0)
            note += $"; {Vms(others.Count)} of the journal {(others.Count == 1 ? "is" : "are")} not part of this run and stay as they are ({Ids(others)})";
        notes.WriteLine(note);
        return JournalStart.Resuming(taken);
    }

    /// <summary>The live VMs of the journal at <paramref name="path"/>, by id.</summary>
    private static SortedDictionary<string, VmSnapshot> Read(string path)
    {
        var vms = new SortedDictionary<string, VmSnapshot>(StringComparer.Ordinal);
        try
        {
            Task.Run(async () =>
            {
                await using var reader = JournalReader.Open(path);
                foreach (var id in await reader.VmIdsAsync().ConfigureAwait(false))
                {
                    var vm = await reader.ReadAsync(id).ConfigureAwait(false);
                    if (vm.Exists)
                        vms.Add(id, vm.State);
                }
            }).GetAwaiter().GetResult();
        }
        catch (JournalContentException e)
        {
            // The VM would fail its recovery during the run: say so now, before anything runs.
            throw new UsageException($"journal {path}: {e.Message}");
        }

        return vms;
    }

    /// <summary>Whether <paramref name="id"/> is one of the run's VM ids (<see cref="SimulationCoordinator.VmId"/> of an index below <paramref name="vms"/>).</summary>
    private static bool IsRunVm(string id, int vms) =>
        id.StartsWith("sim-", StringComparison.Ordinal)
        && int.TryParse(id.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
        && index < vms && SimulationCoordinator.VmId(index) == id;

    private static string Shape(VmConfig config) =>
        $"{config.Profile.Name()}, {ReportFormat.Count(config.VcpuCount, "vCPU")} x {Count((long)(config.MemoryPages / VmConfig.PagesPerMiB))} MiB, " +
        $"MBEC {(config.Mbec ? "on" : "off")}{(config.PrivateMemory ? ", private memory" : "")}";

    /// <summary>The first and last id, in the order of their numbers (chaos-0 ... chaos-15, where text order ends at chaos-9).</summary>
    private static string Ids(IEnumerable<string> ids)
    {
        var list = ids.Order(NumberedIds.Instance).Select(Printable.Escape).ToList();
        return list.Count switch
        {
            1 => list[0],
            2 => $"{list[0]} and {list[1]}",
            _ => $"{list[0]} ... {list[^1]}",
        };
    }

    /// <summary>"1 VM boots", "all 3 VMs boot", "no VM boots".</summary>
    private static string Booting(long count, bool all) => count switch
    {
        0 => "no VM boots",
        1 => "1 VM boots",
        _ => $"{(all ? "all " : "")}{Count(count)} VMs boot",
    };

    private static string Vms(int count) => ReportFormat.Count(count, "VM");

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
