using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using HekiActors.Actors.Hosting;
using HekiActors.Simulation;
using HekiActors.Simulation.Chaos;
using HekiActors.Simulation.Guest;
using HekiActors.Protocol;

namespace HekiActors.Cli.Simulate;

/// <summary>Loads a scenario file (YAML or JSON, chosen by extension) over the built-in defaults, checking every key.</summary>
/// <remarks>
/// Any problem (unknown key, wrong type, out-of-range value, unknown name, malformed file) is a
/// <see cref="UsageException"/> worded <c>file:line: key "a.b" must be ..., got ...</c>, raised before anything runs.
/// Keys a file leaves out keep their defaults; <c>duration</c> and <c>accesses_per_vcpu</c> are alternative bounds,
/// so a file that sets only one of them clears the other (setting both stops at whichever comes first).
/// </remarks>
public static class ScenarioFile
{
    public static readonly IReadOnlyList<string> TopKeys =
        ["vms", "vcpus", "memory_mb", "profile", "mbec", "duration", "accesses_per_vcpu", "rounds", "seed",
         "workload", "attacks", "journal", "telemetry", "kernel", "chaos"];

    public static readonly IReadOnlyList<string> WorkloadKeys = ["read", "write", "exec", "user_mode", "locality"];

    public static readonly IReadOnlyList<string> AttackKeys =
        ["write_kernel_text", "write_rodata", "execute_data", "relax_immutable", "relax_mutable_then_abuse", "clear_pinned_cr"];

    public static readonly IReadOnlyList<string> JournalKeys = ["kind", "path"];

    public static readonly IReadOnlyList<string> TelemetryKeys = ["exporters"];

    public static readonly IReadOnlyList<string> KernelKeys = ["image", "modules", "boot_modules", "run_modules"];

    public static readonly IReadOnlyList<string> ChaosKeys = ["faults", "rate", "rates"];

    /// <summary>The rate of each chaos fault kind when the section names none (as <c>heki chaos --rate</c>).</summary>
    public const double DefaultChaosRate = 0.02;

    /// <summary>Largest scenario file read, in bytes: real ones are a few KiB; the cap bounds the reader's memory.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Deepest nesting of mappings and lists (a scenario needs 3: the file, a section, a list in it).</summary>
    public const int MaxDepth = 16;

    /// <summary>
    /// Most values (mappings, lists, scalars, keys included) in one file: every key of a scenario is about 60. The parsers
    /// allocate a few hundred bytes per value, so without this a 1 MiB file of <c>[],[],...</c> would cost 200 MB.
    /// </summary>
    public const int MaxValues = 10_000;

    /// <summary>The error for the value past <see cref="MaxValues"/>.</summary>
    internal static UsageException TooManyValues(string fileName, long line) =>
        new($"{fileName}:{line}: more than {MaxValues:N0} values; a scenario needs a few dozen");

    /// <summary>Reads and checks the file at <paramref name="path"/>; the name used in messages is the path as given.</summary>
    /// <remarks>Only a regular file of at most <see cref="MaxFileBytes"/> bytes of UTF-8 is read: a device, a FIFO or a
    /// directory is refused before it is opened, so an endless or blocking "file" can neither hang nor fill memory.</remarks>
    public static Scenario Load(string path)
    {
        Format(path);
        return Parse(ScenarioFileBytes.Read(path), path);
    }

    /// <summary>Parses scenario text; the format comes from <paramref name="fileName"/>'s extension.</summary>
    public static Scenario Parse(string text, string fileName) => Parse(Encoding.UTF8.GetBytes(text), fileName);

    /// <summary>Parses a scenario file's bytes (strict UTF-8, an optional byte order mark); the format comes from <paramref name="fileName"/>'s extension.</summary>
    public static Scenario Parse(byte[] bytes, string fileName)
    {
        var format = Format(fileName);
        if (bytes.Length > MaxFileBytes)
        {
            throw new UsageException($"{fileName}: a scenario file must not exceed {MaxFileBytes:N0} bytes, got {bytes.Length:N0}");
        }

        if (bytes.AsSpan().StartsWith(Utf8Bom))
        {
            bytes = bytes[Utf8Bom.Length..];
        }

        var text = StrictUtf8(bytes, fileName);
        var root = format == ".json" ? JsonScenarioReader.Read(bytes, fileName) : YamlScenarioReader.Read(text, fileName);
        var name = Path.GetFileNameWithoutExtension(fileName);
        var start = Scenario.Default with { Name = string.IsNullOrEmpty(name) ? Scenario.DefaultName : name };
        return root is null ? start : new Checker(fileName).Apply(root, start);
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>".yaml" or ".json": the reader the file name asks for.</summary>
    private static string Format(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".yaml" or ".yml" => ".yaml",
        ".json" => ".json",
        _ => throw new UsageException($"{fileName}: a scenario file must end in .yaml, .yml or .json"),
    };

    /// <summary>Decodes UTF-8, refusing invalid bytes (with their line) rather than turning them into U+FFFD.</summary>
    private static string StrictUtf8(byte[] bytes, string fileName)
    {
        var chars = new char[bytes.Length];
        var status = Utf8.ToUtf16(bytes, chars, out var read, out var written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            var line = bytes.AsSpan(0, read).Count((byte)'\n') + 1;
            throw new UsageException($"{fileName}:{line}: the file is not valid UTF-8 (byte 0x{bytes[read]:X2})");
        }

        return new string(chars, 0, written);
    }

    /// <summary>Walks the tree once, applying each key over the defaults; knows the file name for messages.</summary>
    private sealed class Checker(string fileName)
    {
        public Scenario Apply(ScenarioNode root, Scenario scenario)
        {
            if (root is ScenarioScalar { Kind: ScalarKind.Null })
            {
                return scenario;
            }

            if (root is not ScenarioMap map)
            {
                throw new UsageException(
                    $"{fileName}:{root.Line}: a scenario must be a mapping of keys ({string.Join(", ", TopKeys)}), got {root.Describe()}");
            }

            var spec = scenario.Spec;
            var profiles = scenario.Profiles;
            var exporters = scenario.TelemetryExporters;
            var kernel = scenario.Kernel;
            bool setDuration = false, setAccesses = false;
            foreach (var entry in Entries(map, "", TopKeys))
            {
                var (key, line, value) = (entry.Key, entry.KeyLine, entry.Value);
                switch (key)
                {
                    case "vms":
                        spec = spec with { Vms = (int)Integer(key, line, value, 1, Expectations.MaxVms, Expectations.Vms) };
                        break;
                    case "vcpus":
                        spec = spec with { VcpusPerVm = (int)Integer(key, line, value, 1, Expectations.MaxVcpus, Expectations.Vcpus) };
                        break;
                    case "memory_mb":
                        spec = spec with { MemoryMbPerVm = Unsigned(key, line, value, Expectations.MinMemoryMb, Expectations.MaxMemoryMb, Expectations.MemoryMb) };
                        break;
                    case "profile":
                        profiles = ProfileChoices.TryParse(String(key, line, value, Expectations.Profile), out var choice)
                            ? choice
                            : throw Bad(key, line, Expectations.Profile, value);
                        break;
                    case "mbec":
                        spec = spec with { Mbec = Boolean(key, line, value) };
                        break;
                    case "duration":
                        spec = spec with { Duration = Duration(key, line, value) };
                        setDuration = true;
                        break;
                    case "accesses_per_vcpu":
                        spec = spec with { AccessesPerVcpu = Integer(key, line, value, 1, long.MaxValue, Expectations.AccessesPerVcpu) };
                        setAccesses = true;
                        break;
                    case "rounds":
                        spec = spec with { Rounds = (int)Integer(key, line, value, 1, int.MaxValue, Expectations.Rounds) };
                        break;
                    case "seed":
                        spec = spec with { Seed = Unsigned(key, line, value, 0, ulong.MaxValue, Expectations.Seed) };
                        break;
                    case "workload":
                        spec = spec with { Workload = Workload(key, line, value, spec.Workload) };
                        break;
                    case "attacks":
                        spec = spec with { Attacks = Attacks(key, line, value, spec.Attacks) };
                        break;
                    case "journal":
                        spec = Journal(key, line, value, spec);
                        break;
                    case "kernel":
                        kernel = Kernel(key, line, value);
                        break;
                    case "chaos":
                        spec = spec with { Chaos = Chaos(key, line, value) };
                        break;
                    default: // "telemetry"
                        exporters = Exporters(key, line, value, exporters);
                        break;
                }
            }

            // The two bounds are alternatives: naming only one in this file replaces whichever the defaults used.
            if (setAccesses && !setDuration)
            {
                spec = spec with { Duration = null };
            }
            else if (setDuration && !setAccesses)
            {
                spec = spec with { AccessesPerVcpu = null };
            }

            return scenario with { Spec = spec, Profiles = profiles, TelemetryExporters = exporters, Kernel = kernel };
        }

        /// <summary>
        /// The <c>chaos:</c> section: <c>faults</c> (all, none, or a list of kinds), <c>rate</c> (each listed kind's
        /// probability per request, 0..1) and <c>rates</c> (a kind's own rate, which also turns it on). An empty section is
        /// every kind at the default rate.
        /// </summary>
        private SimulationChaos? Chaos(string key, int line, ScenarioNode value)
        {
            IReadOnlyList<FaultKind> kinds = FaultKinds.All;
            var allKinds = true;
            var rate = DefaultChaosRate;
            var rates = new Dictionary<FaultKind, double>();
            foreach (var entry in Section(key, line, value, ChaosKeys))
            {
                var name = key + "." + entry.Key;
                switch (entry.Key)
                {
                    case "faults":
                        (kinds, allKinds) = FaultList(name, entry.KeyLine, entry.Value);
                        break;
                    case "rate":
                        rate = Number(name, entry.KeyLine, entry.Value, 1, double.Epsilon, Expectations.FaultRate);
                        break;
                    default: // "rates"
                        foreach (var kindEntry in Section(name, entry.KeyLine, entry.Value, FaultNames))
                        {
                            FaultKinds.TryParse(kindEntry.Key, out var kind);
                            rates[kind] = Number(name + "." + kindEntry.Key, kindEntry.KeyLine, kindEntry.Value, 1, double.Epsilon, Expectations.FaultRate);
                        }

                        break;
                }
            }

            var chosen = kinds.ToDictionary(kind => kind, _ => rate);
            foreach (var (kind, own) in rates)
                chosen[kind] = own;
            return chosen.Values.Any(r => r > 0) ? new SimulationChaos(chosen, allKinds) : null;
        }

        private static readonly IReadOnlyList<string> FaultNames = FaultKinds.All.Select(k => k.Name()).ToArray();

        private (IReadOnlyList<FaultKind> Kinds, bool All) FaultList(string key, int line, ScenarioNode value)
        {
            if (value is ScenarioScalar { Kind: ScalarKind.String, Text: "all" })
                return (FaultKinds.All, true);
            if (value is ScenarioScalar { Kind: ScalarKind.String, Text: "none" })
                return ([], false);
            if (value is not ScenarioList list)
                throw Bad(key, line, Expectations.FaultKinds, value);
            var kinds = new List<FaultKind>();
            for (var i = 0; i < list.Items.Count; i++)
            {
                var item = list.Items[i];
                var text = String($"{key}[{i}]", item.Line, item, Expectations.FaultKind);
                if (!FaultKinds.TryParse(text, out var kind))
                    throw Bad($"{key}[{i}]", item.Line, Expectations.FaultKind, item);
                if (!kinds.Contains(kind))
                    kinds.Add(kind);
            }

            return (kinds, false);
        }

        /// <summary>The <c>kernel:</c> section; relative paths are taken from the scenario file's folder.</summary>
        private GuestKernelSettings Kernel(string key, int line, ScenarioNode value)
        {
            var settings = new GuestKernelSettings();
            var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(fileName)) ?? ".";
            foreach (var entry in Section(key, line, value, KernelKeys))
            {
                var name = key + "." + entry.Key;
                switch (entry.Key)
                {
                    case "image":
                        var image = String(name, entry.KeyLine, entry.Value, Expectations.Kernel);
                        settings = settings with
                        {
                            Image = image is GuestKernelSettings.SyntheticName or GuestKernelSettings.DebianAlias or HekiActors.Simulation.Kernels.ShippedKernels.DebianName
                                ? image
                                : FilePath(name, entry.KeyLine, entry.Value, image, folder),
                        };
                        break;
                    case "modules":
                        settings = settings with { Modules = FilePath(name, entry.KeyLine, entry.Value, String(name, entry.KeyLine, entry.Value, Expectations.Path), folder) };
                        break;
                    case "boot_modules":
                        settings = settings with { BootModules = Modules(name, entry.KeyLine, entry.Value) };
                        break;
                    default: // "run_modules"
                        settings = settings with { RunModules = Modules(name, entry.KeyLine, entry.Value) };
                        break;
                }
            }

            return settings;
        }

        private string FilePath(string key, int line, ScenarioNode value, string text, string folder) =>
            text.Length > 0 ? System.IO.Path.Combine(folder, text) : throw Bad(key, line, Expectations.Path, value);

        /// <summary>A count of modules, or a list of module names.</summary>
        private ModuleChoice Modules(string key, int line, ScenarioNode value)
        {
            if (value is ScenarioList list)
            {
                var names = new List<string>();
                for (var i = 0; i < list.Items.Count; i++)
                {
                    var item = list.Items[i];
                    var text = String($"{key}[{i}]", item.Line, item, "must be a module name");
                    names.Add(text.Length > 0 && !text.Any(char.IsWhiteSpace) ? text : throw Bad($"{key}[{i}]", item.Line, "must be a module name", item));
                }

                return names.Count > 0 ? ModuleChoice.Named(names) : throw Bad(key, line, Expectations.ModuleChoice, value);
            }

            return ModuleChoice.Counted((int)Integer(key, line, value, 0, int.MaxValue, Expectations.ModuleChoice));
        }

        private WorkloadMix Workload(string key, int line, ScenarioNode value, WorkloadMix mix)
        {
            foreach (var entry in Section(key, line, value, WorkloadKeys))
            {
                var name = key + "." + entry.Key;
                mix = entry.Key switch
                {
                    "read" => mix with { Read = Number(name, entry.KeyLine, entry.Value, Expectations.MaxWeight, double.Epsilon, Expectations.Weight) },
                    "write" => mix with { Write = Number(name, entry.KeyLine, entry.Value, Expectations.MaxWeight, double.Epsilon, Expectations.Weight) },
                    "exec" => mix with { Exec = Number(name, entry.KeyLine, entry.Value, Expectations.MaxWeight, double.Epsilon, Expectations.Weight) },
                    "user_mode" => mix with { UserMode = Number(name, entry.KeyLine, entry.Value, 1, Expectations.WorkloadResolution, Expectations.WorkloadFraction) },
                    _ => mix with { Locality = Number(name, entry.KeyLine, entry.Value, 1, Expectations.WorkloadResolution, Expectations.WorkloadFraction) },
                };
            }

            var total = mix.Read + mix.Write + mix.Exec;
            if (total <= 0)
            {
                throw new UsageException($"{fileName}:{line}: key \"{key}\" needs a positive read, write or exec weight, got all zero");
            }

            // The split is drawn out of 65,536: a weight below that share of the total would never be drawn.
            foreach (var (name, weight) in new[] { ("read", mix.Read), ("write", mix.Write), ("exec", mix.Exec) })
            {
                if (weight > 0 && weight / total < Expectations.WorkloadResolution)
                {
                    throw new UsageException(
                        $"{fileName}:{line}: key \"{key}.{name}\" ({weight.ToString(CultureInfo.InvariantCulture)}) is below 1/65536 of the total weight "
                        + $"({total.ToString(CultureInfo.InvariantCulture)}), so those accesses would never happen: make it 0 or larger");
                }
            }

            return mix;
        }

        private AttackMix Attacks(string key, int line, ScenarioNode value, AttackMix mix)
        {
            foreach (var entry in Section(key, line, value, AttackKeys))
            {
                var count = (int)Integer(key + "." + entry.Key, entry.KeyLine, entry.Value, 0, int.MaxValue, Expectations.AttackCount);
                mix = entry.Key switch
                {
                    "write_kernel_text" => mix with { WriteKernelText = count },
                    "write_rodata" => mix with { WriteRodata = count },
                    "execute_data" => mix with { ExecuteData = count },
                    "relax_immutable" => mix with { RelaxImmutable = count },
                    "relax_mutable_then_abuse" => mix with { RelaxMutableThenAbuse = count },
                    _ => mix with { ClearPinnedCr = count },
                };
            }

            return mix;
        }

        private SimulationSpec Journal(string key, int line, ScenarioNode value, SimulationSpec spec)
        {
            JournalKind? kind = null;
            (string Path, int Line)? path = null;
            foreach (var entry in Section(key, line, value, JournalKeys))
            {
                var name = key + "." + entry.Key;
                if (entry.Key == "kind")
                {
                    kind = String(name, entry.KeyLine, entry.Value, Expectations.Journal) switch
                    {
                        Expectations.InMemoryName => JournalKind.InMemory,
                        Expectations.SqliteName => JournalKind.Sqlite,
                        _ => throw Bad(name, entry.KeyLine, Expectations.Journal, entry.Value),
                    };
                }
                else
                {
                    var text = String(name, entry.KeyLine, entry.Value, Expectations.Path);
                    path = text.Length > 0 ? (text, entry.KeyLine) : throw Bad(name, entry.KeyLine, Expectations.Path, entry.Value);
                }
            }

            if (path is { } p)
            {
                // A path only means something for SQLite; naming one implies it, naming it with inmem contradicts it.
                if (kind == JournalKind.InMemory)
                {
                    throw new UsageException($"{fileName}:{p.Line}: key \"{key}.path\" needs kind sqlite (the inmem journal has no file)");
                }

                return spec with { Journal = JournalKind.Sqlite, SqlitePath = p.Path };
            }

            return kind is { } k ? spec with { Journal = k, SqlitePath = k == JournalKind.Sqlite ? spec.SqlitePath : null } : spec;
        }

        private IReadOnlyList<string> Exporters(string key, int line, ScenarioNode value, IReadOnlyList<string> exporters)
        {
            foreach (var entry in Section(key, line, value, TelemetryKeys))
            {
                var name = key + "." + entry.Key;
                if (entry.Value is ScenarioScalar { Kind: ScalarKind.Null })
                {
                    exporters = [];
                    continue;
                }

                if (entry.Value is not ScenarioList list)
                {
                    throw Bad(name, entry.KeyLine, "must be a list of exporter names (" + string.Join(", ", TelemetryExporters.Known) + ")", entry.Value);
                }

                var names = new List<string>();
                for (var i = 0; i < list.Items.Count; i++)
                {
                    var item = list.Items[i];
                    var itemName = $"{name}[{i}]";
                    var text = String(itemName, item.Line, item, Expectations.Exporter);
                    if (!TelemetryExporters.IsKnown(text))
                    {
                        throw Bad(itemName, item.Line, Expectations.Exporter, item);
                    }

                    if (!names.Contains(text))
                    {
                        names.Add(text);
                    }
                }

                exporters = names;
            }

            return exporters;
        }

        /// <summary>A section's entries; a section left empty (only comments under it) sets nothing.</summary>
        private IEnumerable<ScenarioEntry> Section(string key, int line, ScenarioNode value, IReadOnlyList<string> known)
        {
            if (value is ScenarioScalar { Kind: ScalarKind.Null })
            {
                return [];
            }

            if (value is not ScenarioMap map)
            {
                throw Bad(key, line, "must be a mapping of " + string.Join(", ", known), value);
            }

            return Entries(map, key + ".", known);
        }

        private IEnumerable<ScenarioEntry> Entries(ScenarioMap map, string prefix, IReadOnlyList<string> known)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in map.Entries)
            {
                if (!known.Contains(entry.Key, StringComparer.Ordinal))
                {
                    throw new UsageException(
                        $"{fileName}:{entry.KeyLine}: unknown key \"{ScenarioNode.Excerpt(prefix + entry.Key)}\"; known keys{(prefix.Length > 0 ? " under \"" + prefix.TrimEnd('.') + "\"" : "")}: {string.Join(", ", known)}");
                }

                if (!seen.Add(entry.Key))
                {
                    throw new UsageException($"{fileName}:{entry.KeyLine}: duplicate key \"{ScenarioNode.Excerpt(prefix + entry.Key)}\"");
                }

                yield return entry;
            }
        }

        private long Integer(string key, int line, ScenarioNode value, long min, long max, string expectation) =>
            value is ScenarioScalar { Kind: ScalarKind.Integer } s && NumberText.TryInteger(s.Text, min, max, out var n)
                ? n
                : throw Bad(key, line, expectation, value);

        private ulong Unsigned(string key, int line, ScenarioNode value, ulong min, ulong max, string expectation) =>
            value is ScenarioScalar { Kind: ScalarKind.Integer } s && NumberText.TryUnsigned(s.Text, min, max, out var n)
                ? n
                : throw Bad(key, line, expectation, value);

        private double Number(string key, int line, ScenarioNode value, double max, double smallestNonZero, string expectation) =>
            value is ScenarioScalar { Kind: ScalarKind.Integer or ScalarKind.Float } s
            && NumberText.TryNumber(s.Text, 0, max, smallestNonZero, out var n)
                ? n
                : throw Bad(key, line, expectation, value);

        private bool Boolean(string key, int line, ScenarioNode value) =>
            value is ScenarioScalar { Kind: ScalarKind.Bool } s
                ? s.Text.Equals("true", StringComparison.OrdinalIgnoreCase)
                : throw Bad(key, line, Expectations.Boolean, value);

        private string String(string key, int line, ScenarioNode value, string expectation) =>
            value is ScenarioScalar { Kind: ScalarKind.String } s ? s.Text : throw Bad(key, line, expectation, value);

        private TimeSpan Duration(string key, int line, ScenarioNode value) =>
            // A bare number is seconds; a string carries its unit (20s, 2m).
            value is ScenarioScalar { Kind: ScalarKind.String or ScalarKind.Integer or ScalarKind.Float } s
            && DurationText.TryParse(s.Text, out var duration)
                ? duration
                : throw Bad(key, line, Expectations.Duration, value);

        private UsageException Bad(string key, int line, string expectation, ScenarioNode got) =>
            new($"{fileName}:{line}: key \"{key}\" {expectation}, got {got.Describe()}");
    }
}
