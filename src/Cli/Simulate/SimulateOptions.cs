using System.CommandLine;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Simulate;

/// <summary>The <c>heki simulate</c> argument and options, and how a parse result becomes a <see cref="SimulationRunner.Request"/>.</summary>
/// <remarks>
/// Value options are declared as text and checked by <see cref="CommandLineOverrides"/>, so a bad value is reported in
/// the same words as in a scenario file rather than as a .NET type conversion failure.
/// </remarks>
public sealed class SimulateOptions
{
    public Argument<string?> Scenario { get; } = new("SCENARIO")
    {
        Description = "Scenario file (.yaml, .yml or .json; see scenarios/README.md). Without one, the built-in default scenario runs.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public Option<string?> Vms { get; } = new("--vms") { Description = "Number of VMs.", HelpName = "N" };

    public Option<string?> Vcpus { get; } = new("--vcpus") { Description = "vCPUs per VM.", HelpName = "N" };

    public Option<string?> MemoryMb { get; } = new("--memory-mb") { Description = "Guest memory per VM in MiB (at least 16).", HelpName = "MIB" };

    public Option<string?> Profile { get; } = new("--profile")
    {
        Description = "hardened (RFC defects fixed), heki-v2 (bug for bug), or both (run each, report side by side).",
        HelpName = "hardened|heki-v2|both",
    };

    public Option<bool?> Mbec { get; } = new("--mbec") { Description = "Mode-based execute control on (or --mbec false)." };

    public Option<bool> NoMbec { get; } = new("--no-mbec") { Description = "Mode-based execute control off." };

    public Option<string?> Duration { get; } = new("--duration")
    {
        Description = "Workload time limit, e.g. 20s, 2m, 1m30s (replaces the scenario's bound unless --accesses-per-vcpu is also given).",
        HelpName = "TIME",
    };

    public Option<string?> AccessesPerVcpu { get; } = new("--accesses-per-vcpu")
    {
        Description = "Workload accesses per vCPU (replaces the scenario's bound unless --duration is also given).",
        HelpName = "N",
    };

    public Option<string?> Rounds { get; } = new("--rounds") { Description = "Workload rounds; kernel events and attacks happen between rounds.", HelpName = "N" };

    public Option<string?> Seed { get; } = new("--seed") { Description = "Seed of every random choice: same scenario and seed, same counts.", HelpName = "N" };

    public Option<string?> Journal { get; } = new("--journal") { Description = "Where VM events go: inmem (default) or sqlite.", HelpName = "inmem|sqlite" };

    public Option<string?> SqlitePath { get; } = new("--sqlite-path")
    {
        Description = "SQLite journal file (implies --journal sqlite; default heki-simulate.db).",
        HelpName = "FILE",
    };

    public Option<bool> Resume { get; } = new("--resume")
    {
        Description = "If the SQLite journal holds VMs of an earlier run, take them over: their protections and pins stay in force (default: refuse to run).",
    };

    public Option<bool> Fresh { get; } = new("--fresh")
    {
        Description = "If the SQLite journal holds VMs of an earlier run, destroy them first (not part of the run or its recording; default: refuse to run).",
    };

    public Option<string?> Record { get; } = new("--record")
    {
        Description = "Write the run's operations in the replay format for `heki replay`; with --profile both, FILE.hardened.EXT and FILE.heki-v2.EXT.",
        HelpName = "FILE",
    };

    public Option<string?> Report { get; } = new("--report")
    {
        Description = "Also write the report as JSON to FILE (- for standard output, instead of the table).",
        HelpName = "FILE.json",
    };

    public Option<bool> NoProgress { get; } = new("--no-progress") { Description = "Do not show progress on standard error." };

    public Option<string?> Telemetry { get; } = new("--telemetry")
    {
        Description = "Telemetry exporters to turn on, besides the scenario's (comma-separated): otlp (OTEL_EXPORTER_OTLP_* variables), prometheus, console.",
        HelpName = "otlp,prometheus,console",
    };

    public Option<string?> MetricsPort { get; } = new("--metrics-port")
    {
        Description = $"Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (prometheus alone uses {TelemetryExporters.DefaultPrometheusPort}).",
        HelpName = "PORT",
    };

    public Option<string?> TraceRatio { get; } = new("--trace-ratio")
    {
        Description = "Share of traces sampled, 0 to 1 (default 0.1; 1 traces every hypercall and what follows from it).",
        HelpName = "R",
    };

    public Option<string?> FastPathSpanRatio { get; } = new("--fastpath-span-ratio")
    {
        Description = "Share of fast-path access groups traced with a span (and histogram exemplar), 0 to 1 (default 0.001).",
        HelpName = "R",
    };

    public Option<string?> PerVmLabels { get; } = new("--per-vm-labels")
    {
        Description = "Label per-VM metrics with the VM id, for at most N VMs (a cardinality limit you set: up to 64 series per VM and metric; a run with more VMs is refused).",
        HelpName = "N",
    };

    public Option<string?> FinalScrapeWait { get; } = new("--final-scrape-wait")
    {
        Description = "With a Prometheus endpoint: after the run, wait up to TIME for a scrape of the final counts (default 15s; 0 to skip).",
        HelpName = "TIME",
    };

    public Option<string?> Dashboard { get; } = new("--dashboard")
    {
        Description = "Serve a live page of the run at http://127.0.0.1:PORT/ (no PORT or 0: a free port; the URL is printed).",
        HelpName = "PORT",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public Option<string?> Html { get; } = new("--html")
    {
        Description = "Write a self-contained HTML report with plots over the whole run (opens offline).",
        HelpName = "FILE.html",
    };

    public Option<string?> Kernel { get; } = new("--kernel")
    {
        Description = "The guest kernel: synthetic, debian (the shipped Debian 6.1 kernel), or a bzImage, ELF vmlinux or guest-kernel data file (docs/guest-kernels.md).",
        HelpName = "synthetic|debian|PATH",
    };

    public Option<string?> Modules { get; } = new("--modules")
    {
        Description = "The kernel's modules: a folder such as /lib/modules/VERSION, one .ko file, or a text list of .ko paths.",
        HelpName = "PATH",
    };

    public Option<string?> BootModules { get; } = new("--boot-modules")
    {
        Description = "Modules each VM loads at boot: a count (chosen from the seed) or comma-separated names (default 8).",
        HelpName = "N|NAME,...",
    };

    public Option<string?> RunModules { get; } = new("--run-modules")
    {
        Description = "Modules each VM loads during the run, spread over the rounds and unloaded a round later: a count or names (default 10).",
        HelpName = "N|NAME,...",
    };

    public Option<string?> Cluster { get; } = new("--cluster")
    {
        Description = "Drive a running cluster of heki nodes through this seed node (akka.tcp://heki@HOST:PORT) instead of VMs in this process; the VMs use the nodes' journal, and the report adds each node's VMs (docs/cluster.md).",
        HelpName = "SEED-ADDRESS",
    };

    public Option<string?> ClusterConfig { get; } = new("--cluster-config")
    {
        Description = "With --cluster: the settings file the nodes run with (heki node --config). This client is a cluster member, and its split-brain resolver and failure detector must be the nodes' (docs/cluster.md).",
        HelpName = "FILE",
    };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Scenario);
        foreach (var option in new Option[] { Vms, Vcpus, MemoryMb, Profile, Mbec, NoMbec, Duration, AccessesPerVcpu, Rounds, Seed, Journal, SqlitePath, Resume, Fresh, Record, Report, NoProgress, Telemetry, MetricsPort, TraceRatio, FastPathSpanRatio, PerVmLabels, FinalScrapeWait, Dashboard, Html, Kernel, Modules, BootModules, RunModules, Cluster, ClusterConfig })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Checks the parse and builds the request; every problem is a <see cref="UsageException"/>.</summary>
    public SimulationRunner.Request Read(ParseResult parse)
    {
        // Unknown options, a flag's bad value (--mbec maybe) and stray words, named before System.CommandLine's own errors.
        if (CommandLineProblems.Describe(parse, IsScenarioName) is { } problem)
        {
            throw new UsageException(problem);
        }

        var file = parse.GetValue(Scenario);
        var dashboard = DashboardPort(parse, ref file);
        if (parse.GetValue(NoMbec) && parse.GetResult(Mbec) is not null)
        {
            throw new UsageException("--mbec and --no-mbec contradict each other");
        }

        var overrides = new CommandLineOverrides
        {
            Vms = parse.GetValue(Vms),
            Vcpus = parse.GetValue(Vcpus),
            MemoryMb = parse.GetValue(MemoryMb),
            Profile = parse.GetValue(Profile),
            Mbec = parse.GetValue(NoMbec) ? false : parse.GetValue(Mbec),
            Duration = parse.GetValue(Duration),
            AccessesPerVcpu = parse.GetValue(AccessesPerVcpu),
            Rounds = parse.GetValue(Rounds),
            Seed = parse.GetValue(Seed),
            Journal = parse.GetValue(Journal),
            SqlitePath = parse.GetValue(SqlitePath),
        };
        var earlier = (parse.GetValue(Resume), parse.GetValue(Fresh)) switch
        {
            (true, true) => throw new UsageException("--resume and --fresh contradict each other"),
            (true, false) => EarlierVms.Resume,
            (false, true) => EarlierVms.Fresh,
            _ => EarlierVms.Refuse,
        };
        var record = parse.GetValue(Record);
        var report = parse.GetValue(Report);
        if (record == SimulationRunner.StandardOutput)
        {
            throw new UsageException("--record needs a file name (standard output carries the report)");
        }

        var html = parse.GetValue(Html);
        if (html == SimulationRunner.StandardOutput)
        {
            throw new UsageException("--html needs a file name (standard output carries the report)");
        }

        // The file is read first, so its errors come before option errors: they are the ones with line numbers.
        var scenario = file is null ? Simulate.Scenario.Default : ScenarioFile.Load(file);
        scenario = overrides.ApplyTo(scenario);
        scenario = WithoutJournalFaultsOnSqlite(scenario, file);
        scenario = GuestKernelSettings.ApplyTo(scenario, KernelSettings(parse));
        ScenarioLimits.Check(scenario, RunMemoryEstimate.AvailableBytes());
        if (earlier != EarlierVms.Refuse && scenario.Spec.Journal != Actors.Hosting.JournalKind.Sqlite)
        {
            throw new UsageException($"{(earlier == EarlierVms.Resume ? "--resume" : "--fresh")} needs a SQLite journal (--journal sqlite or --sqlite-path): the inmem journal starts empty");
        }

        var progress = !parse.GetValue(NoProgress);
        var telemetry = TelemetryExporters.Options(scenario.TelemetryExporters, parse.GetValue(Telemetry), parse.GetValue(MetricsPort),
            parse.GetValue(TraceRatio), parse.GetValue(FastPathSpanRatio), parse.GetValue(PerVmLabels), parse.GetValue(FinalScrapeWait));
        if (telemetry.PerVmLabelLimit is { } limit && scenario.Spec.Vms > limit)
        {
            throw new UsageException(
                $"--per-vm-labels {limit} allows per-VM series for {limit:N0} VMs, but this run has {scenario.Spec.Vms:N0}: raise the limit or drop --per-vm-labels");
        }
        if (telemetry.Console && report == SimulationRunner.StandardOutput)
        {
            // The console exporter writes to standard output, which would corrupt the JSON report.
            throw new UsageException("the console telemetry exporter writes to standard output: it cannot be combined with --report -");
        }

        if (dashboard is { } port && port != 0 && telemetry.PrometheusPort == port)
        {
            throw new UsageException($"--dashboard and the Prometheus endpoint both want port {port}: give them different ports");
        }

        // An empty value of any option was refused with the command line's problems (CommandLineProblems).
        var cluster = parse.GetValue(Cluster);
        if (Node.ClusterClientOptions.Check(cluster, parse.GetValue(ClusterConfig), out var clusterConfig) is { } clusterProblem)
            throw new UsageException(clusterProblem) { HelpHint = !Input.HoconFile.IsAbout(clusterProblem, "--cluster-config", parse.GetValue(ClusterConfig)) };
        if (cluster is not null && (scenario.Spec.Journal != Actors.Hosting.JournalKind.InMemory || earlier != EarlierVms.Refuse))
            throw new UsageException("--cluster runs the VMs on the cluster's nodes, in their journal: --journal, --sqlite-path, --resume and --fresh do not apply");

        return new SimulationRunner.Request(scenario, record, report, progress, LiveProgress: true, Telemetry: telemetry, ScenarioPath: file,
            EarlierVms: earlier)
        {
            ClusterSeed = cluster,
            ClusterConfig = clusterConfig,
            DashboardPort = dashboard,
            HtmlPath = html,
            CommandLine = CommandText(parse),
        };
    }

    /// <summary>
    /// A durable journal (SQLite) takes no injected journal faults (only the in-memory chaos journal injects them): a chaos section
    /// asking for every kind means every other kind there, and one naming a journal fault is refused.
    /// </summary>
    private static Simulate.Scenario WithoutJournalFaultsOnSqlite(Simulate.Scenario scenario, string? file)
    {
        if (scenario.Spec is not { Chaos: { HasJournalFaults: true } chaos, Journal: not Actors.Hosting.JournalKind.InMemory })
        {
            return scenario;
        }

        if (!chaos.AllKinds)
        {
            var named = string.Join(", ", chaos.Kinds.Where(k => k.IsJournalFault()).Select(k => k.Name()));
            throw new UsageException($"{file ?? "the scenario"}: key \"chaos\" injects {named}, which needs the inmem journal; " +
                "a durable journal takes no journal faults: drop it from chaos.faults and chaos.rates, or use --journal inmem");
        }

        return scenario with { Spec = scenario.Spec with { Chaos = chaos.WithoutJournalFaults() } };
    }

    /// <summary>
    /// The --dashboard port: null without the option, 0 for "any free port". Its value is optional, so
    /// <c>--dashboard scenario.yaml</c> hands it the scenario: a value that is no port, with no scenario given, is the scenario.
    /// </summary>
    private int? DashboardPort(ParseResult parse, ref string? file)
    {
        if (parse.GetResult(Dashboard) is null)
        {
            return null;
        }

        var text = parse.GetValue(Dashboard);
        if (text is null)
        {
            return 0;
        }

        if (NumberText.TryInteger(text, 0, System.Net.IPEndPoint.MaxPort, out var port))
        {
            return (int)port;
        }

        if (file is null && IsScenarioName(text))
        {
            file = text;
            return 0;
        }

        throw new UsageException($"--dashboard PORT must be a port from 0 to 65535 (0: any free port), got {(text.Length == 0 ? "nothing" : text)}");
    }

    /// <summary>The command as typed, shell-quoted, for the report's "how to reproduce".</summary>
    private static string CommandText(ParseResult parse)
    {
        var words = parse.Tokens.Select(t => t.Value).ToList();
        if (words.Count > 0 && words[0] == "simulate")
        {
            words.RemoveAt(0);
        }

        return string.Join(' ', new[] { "heki", "simulate" }.Concat(words.Select(ShellQuote)));
    }

    private static string ShellQuote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Whether a word can name a scenario file (its extension says YAML or JSON).</summary>
    private static bool IsScenarioName(string word) =>
        Path.GetExtension(word).ToLowerInvariant() is ".yaml" or ".yml" or ".json";

    private GuestKernelSettings KernelSettings(ParseResult parse) => new()
    {
        Image = parse.GetValue(Kernel),
        Modules = parse.GetValue(Modules),
        BootModules = parse.GetValue(BootModules) is { } boot ? GuestKernelSettings.ParseChoice("--boot-modules", boot) : null,
        RunModules = parse.GetValue(RunModules) is { } run ? GuestKernelSettings.ParseChoice("--run-modules", run) : null,
    };
}
