using System.CommandLine;
using System.CommandLine.Invocation;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Output;
using HekiActors.Cli.Simulate;
using HekiActors.Memory;
using HekiActors.Observability;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Cli.Chaos;

/// <summary>
/// <c>heki chaos</c>: a chaos run (docs/chaos.md) per profile, its report, and a shrunk, confirmed reproducer for
/// the first finding of each kind.
/// </summary>
public static class ChaosCommand
{
    /// <summary>No invariant violation (RFC defects under heki-v2 are expected findings, not violations).</summary>
    public const int ExitClean = ExitCodes.Ok;

    /// <summary>At least one invariant violation: a bug.</summary>
    public const int ExitViolations = ExitCodes.Failed;

    public static Command Build()
    {
        var profile = new Option<string>("--profile")
        {
            Description = "hardened, heki-v2, or both (one run each, side by side).",
            DefaultValueFactory = _ => HekiProfiles.HardenedName,
            HelpName = "hardened|heki-v2|both",
        };
        var duration = new Option<string>("--duration") { Description = "How long each run lasts (e.g. 60s, 2m).", DefaultValueFactory = _ => "20s" };
        var operations = new Option<long?>("--operations") { Description = "Stop after this many operations per VM instead of after --duration." };
        var vms = new Option<int>("--vms") { Description = "VMs driven at once.", DefaultValueFactory = _ => 16 };
        var vcpus = new Option<int>("--vcpus") { Description = "vCPUs per VM.", DefaultValueFactory = _ => 2 };
        var memory = new Option<ulong>("--memory-mb") { Description = "Guest memory per VM in MiB.", DefaultValueFactory = _ => 64 };
        var seed = new Option<ulong>("--seed") { Description = "Decides the operations and the faults.", DefaultValueFactory = _ => 1 };
        var faults = new Option<string>("--faults")
        {
            Description = "Fault kinds to inject: all, none, or a comma-separated list ("
                + string.Join(", ", FaultKinds.All.Select(k => k.Name()).Concat(NodeFaultKinds.All.Select(k => k.Name()))) + "; node_* with --cluster-nodes).",
            DefaultValueFactory = _ => "all",
        };
        var rate = new Option<double>("--rate") { Description = "Probability per operation of each fault kind, 0..1.", DefaultValueFactory = _ => 0.02 };
        var report = new Option<string?>("--report") { Description = "Also write the report as JSON to this file." };
        var findings = new Option<string?>("--findings")
        {
            Description = "Directory for the reproducers (one replay script per finding kind).",
            DefaultValueFactory = _ => "chaos-findings",
        };
        var sqlite = new Option<string?>("--sqlite-path")
        {
            Description = "Journal the VMs to this SQLite file instead of the in-memory chaos journal (journal faults are then off).",
        };
        var acknowledgements = new Option<string?>("--acknowledgements")
        {
            Description = "Write every acknowledged operation to this file; if it holds a killed run of the same options, continue that run.",
        };
        var killProcess = new Option<int>("--kill-process")
        {
            Description = "Run the chaos run in a child process on --sqlite-path, kill it with SIGKILL N times mid-run and start it again.",
            HelpName = "N",
        };

        var cluster = new Option<string?>("--cluster")
        {
            Description = "Drive the VMs of a running cluster through this seed node (akka.tcp://heki@HOST:PORT) instead of VMs in this process.",
            HelpName = "SEED-ADDRESS",
        };
        var clusterNodes = new Option<int>("--cluster-nodes")
        {
            Description = "Start N heki node processes on 127.0.0.1 (a PostgreSQL journal: --journal-connection), drive them, and kill and pause them (node_kill, node_pause).",
            HelpName = "N",
        };
        var journalConnection = new Option<string?>("--journal-connection")
        {
            Description = "With --cluster-nodes: the nodes' PostgreSQL connection string (Npgsql's Host=...;Port=...;Database=...;Username=...).",
            HelpName = "CONNECTION",
        };
        var clusterConfig = new Option<string?>("--cluster-config")
        {
            Description = "With --cluster: the settings file the nodes run with (heki node --config); this client runs with their split-brain resolver and failure detector (docs/cluster.md).",
            HelpName = "FILE",
        };
        var nodeFaultInterval = new Option<string>("--node-fault-interval")
        {
            Description = "With --cluster-nodes: the mean time between the cluster being whole again and the next node fault.",
            DefaultValueFactory = _ => "10s",
            HelpName = "D",
        };

        var telemetry = new Option<string?>("--telemetry")
        {
            Description = "Telemetry exporters to turn on (comma-separated): otlp (OTEL_EXPORTER_OTLP_* variables), prometheus, console.",
            HelpName = "otlp,prometheus,console",
        };
        var metricsPort = new Option<string?>("--metrics-port")
        {
            Description = $"Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (prometheus alone uses {TelemetryExporters.DefaultPrometheusPort}).",
            HelpName = "PORT",
        };
        var finalScrapeWait = new Option<string?>("--final-scrape-wait")
        {
            Description = "With a Prometheus endpoint: after the run, wait up to TIME for a scrape of the final counts (default 15s; 0 to skip).",
            HelpName = "TIME",
        };

        var scenario = new Argument<string?>("SCENARIO")
        {
            Description = "Scenario file (.yaml, .yml or .json; see scenarios/README.md): its vms, vcpus, memory_mb, profile, seed, "
                + "duration and chaos section (fault kinds and rates) set the run; an option given on the command line wins over it.",
            Arity = ArgumentArity.ZeroOrOne,
        };

        var command = new Command("chaos", "Inject faults into a running model, check the invariants with an independent oracle, shrink every finding to a replay script.")
        {
            scenario, profile, duration, operations, vms, vcpus, memory, seed, faults, rate, report, findings, sqlite, acknowledgements, killProcess,
            cluster, clusterConfig, clusterNodes, journalConnection, nodeFaultInterval, telemetry, metricsPort, finalScrapeWait,
        };
        command.Action = new ChaosAction(scenario, profile, duration, operations, vms, vcpus, memory, seed, faults, rate, report, findings, sqlite,
            acknowledgements, killProcess, new ClusterOptions(cluster, clusterConfig, clusterNodes, journalConnection, nodeFaultInterval), telemetry, metricsPort,
            finalScrapeWait);
        return command;
    }

    private sealed class ChaosAction(
        Argument<string?> scenarioFile, Option<string> profile, Option<string> duration, Option<long?> operations, Option<int> vms, Option<int> vcpus, Option<ulong> memory,
        Option<ulong> seed, Option<string> faults, Option<double> rate, Option<string?> report, Option<string?> findings, Option<string?> sqlite,
        Option<string?> acknowledgements, Option<int> killProcess, ClusterOptions clusterOptions, Option<string?> telemetry, Option<string?> metricsPort,
        Option<string?> finalScrapeWait) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            if (CommandLineProblems.Report(parse, stderr))
                return ExitCodes.Usage;

            // A scenario file sets the run; what the command line names explicitly wins over it.
            Scenario? scenario = null;
            if (parse.GetValue(scenarioFile) is { } scenarioPath)
            {
                try
                {
                    scenario = ScenarioFile.Load(scenarioPath);
                }
                catch (UsageException e)
                {
                    return Usage(stderr, e.Message);
                }
            }

            // Before anything else looks at the scenario: after `heki chaos ch.yaml >ch.yaml` it was read empty.
            if (ChaosFiles.Conflict(parse.GetValue(scenarioFile), scenario, parse.GetValue(report), parse.GetValue(findings), parse.GetValue(sqlite),
                    parse.GetValue(acknowledgements), parse.GetValue(killProcess) > 0, standardStreams: ReferenceEquals(stderr, StandardStreams.Error)) is { } conflict)
            {
                // When standard error is one of those files the message would land in it: say it on standard output, or not at all.
                conflict.SafeWriter(stdout, stderr)?.WriteLine("heki chaos: " + conflict.Message);
                return ExitCodes.Usage;
            }

            bool Given<T>(Option<T> option) => parse.GetResult(option) is { Implicit: false };
            T Pick<T>(Option<T> option, Func<Scenario, T> fromScenario) =>
                scenario is not null && !Given(option) ? fromScenario(scenario) : parse.GetValue(option)!;
            var vmCount = Pick(vms, s => s.Spec.Vms);
            var vcpuCount = Pick(vcpus, s => s.Spec.VcpusPerVm);
            var memoryMb = Pick(memory, s => s.Spec.MemoryMbPerVm);
            var seedValue = Pick(seed, s => s.Spec.Seed);
            // Taken as the scenario parser checked them; only command-line text is parsed below.
            var scenarioProfiles = scenario is not null && !Given(profile) ? scenario.Profiles : (ProfileChoice?)null;
            var scenarioDuration = scenario is not null && !Given(duration) ? scenario.Spec.Duration : null;
            // The scenario's chaos section gives each kind its own rate; --faults or --rate replace it whole.
            var scenarioChaos = scenario?.Spec.Chaos is { } section && !Given(faults) && !Given(rate) ? section : null;

            string? Problem()
            {
                if (vmCount is < 1 or > Expectations.MaxVms)
                    return $"--vms must be within 1..{Expectations.MaxVms}";
                if (vcpuCount is < 1 or > VmConfig.MaxVcpus)
                    return $"--vcpus must be within 1..{VmConfig.MaxVcpus}";
                // The bounds simulate and the scenario file use: one definition.
                if (memoryMb is < Expectations.MinMemoryMb or > Expectations.MaxMemoryMb)
                    return $"--memory-mb {Expectations.MemoryMb}, got {memoryMb}";
                // The VMs all boot in this process (or, with --cluster, are driven from it): refused before anything starts.
                if (RunMemoryEstimate.For(vmCount, vcpuCount, memoryMb, GcBudget.InEffectBytes).Problem(vmCount, vcpuCount, RunMemoryEstimate.AvailableBytes()) is { } tooBig)
                    return tooBig;
                // Read as the scenario's chaos rates are: 1e-400 parses to 0 (underflow) but asks for something.
                if (parse.GetResult(rate) is { Implicit: false, Tokens: [var rateText, ..] }
                    && !NumberText.TryNumber(rateText.Value, 0, 1, double.Epsilon, out _))
                    return $"--rate {Expectations.FaultRate}, got {rateText.Value}";
                // Checked whether or not --cluster-nodes uses it: a bad value is a mistake either way.
                if (!DurationText.TryParse(parse.GetValue(clusterOptions.NodeFaultInterval), out var interval) || interval < TimeSpan.FromSeconds(1))
                    return $"--node-fault-interval must be a duration of at least 1s (e.g. 10s, 1m), got '{parse.GetValue(clusterOptions.NodeFaultInterval)}'";
                if (parse.GetValue(operations) is < 1)
                    return "--operations must be at least 1";
                if (parse.GetValue(killProcess) < 0)
                    return "--kill-process must be at least 0";
                if (parse.GetValue(killProcess) > 0 && parse.GetValue(sqlite) is null)
                    return "--kill-process needs --sqlite-path FILE (the journal the killed process leaves to the next)";
                if (parse.GetValue(killProcess) > 0 && parse.GetValue(acknowledgements) is not null)
                    return "--kill-process keeps its own acknowledgement log (FILE.acks beside --sqlite-path); drop --acknowledgements";
                return null;
            }

            // Asked once the journal is locked: a journal another run holds is "in use" (75), whatever it holds.
            string? JournalProblem()
            {
                if (parse.GetValue(killProcess) > 0 && (File.Exists(parse.GetValue(sqlite)) || File.Exists(parse.GetValue(sqlite) + ".acks")))
                    return $"--kill-process starts a new run: '{parse.GetValue(sqlite)}' or its log '{parse.GetValue(sqlite)}.acks' already exists";
                if (parse.GetValue(sqlite) is { } journal && File.Exists(journal) && parse.GetValue(acknowledgements) is null)
                    return $"--sqlite-path '{journal}' exists: continue its run with --acknowledgements (its log), or name a new file";
                return null;
            }

            if (Problem() is { } problem)
                return Usage(stderr, problem);
            var choice = scenarioProfiles ?? ProfileChoice.Hardened;
            if (scenarioProfiles is null && !ProfileChoices.TryParse(parse.GetValue(profile), out choice))
                return Usage(stderr, $"--profile must be hardened, heki-v2 or both, got '{parse.GetValue(profile)}'");
            var profiles = choice.Profiles();
            var runFor = scenarioDuration ?? TimeSpan.Zero;
            if (scenarioDuration is null && !DurationText.TryParse(parse.GetValue(duration), out runFor))
                return Usage(stderr, $"--duration {Expectations.Duration}, got '{parse.GetValue(duration)}'");
            FaultKind[] kinds;
            NodeFaultKind[] nodeKinds = [];
            if (scenarioChaos is not null)
            {
                kinds = [.. scenarioChaos.Kinds];
            }
            else if (!TryFaults(parse.GetValue(faults)!, out kinds, out nodeKinds, out var faultProblem))
            {
                return Usage(stderr, "--faults: " + faultProblem);
            }

            var clusterRun = ClusterRun.Resolve(parse, clusterOptions, scenarioChaos, ref kinds, ref nodeKinds, parse.GetValue(faults) == "all",
                parse.GetValue(sqlite) is not null || parse.GetValue(acknowledgements) is not null || parse.GetValue(killProcess) > 0, out var clusterProblem);
            if (clusterProblem is not null)
                return Usage(stderr, clusterProblem, helpHint: !Input.HoconFile.IsAbout(clusterProblem, "--cluster-config", parse.GetValue(clusterOptions.NodesConfig)));
            if (clusterRun is not null)
                scenarioChaos = scenarioChaos?.Only(k => k.ReachesCluster());

            if (parse.GetValue(sqlite) is not null)
            {
                // A SQLite journal takes no injected journal faults: "all" means every other kind; naming one is an error.
                var allKinds = scenarioChaos?.AllKinds ?? parse.GetValue(faults) == "all";
                if (!allKinds && kinds.FirstOrDefault(k => k.IsJournalFault()) is var journalKind && journalKind.IsJournalFault())
                    return Usage(stderr, $"{(scenarioChaos is null ? "--faults" : "the scenario's chaos section")}: {journalKind.Name()} needs the in-memory chaos journal, not --sqlite-path");
                kinds = [.. kinds.Where(k => !k.IsJournalFault())];
                scenarioChaos = scenarioChaos?.WithoutJournalFaults();
            }

            TelemetryOptions telemetryOptions;
            try
            {
                telemetryOptions = TelemetryExporters.Options([], parse.GetValue(telemetry), parse.GetValue(metricsPort), null, null, null,
                    parse.GetValue(finalScrapeWait)) with { ServiceName = "heki-chaos" };
            }
            catch (UsageException e)
            {
                return Usage(stderr, e.Message);
            }

            if (profiles.Count != 1 && (parse.GetValue(sqlite) is not null || parse.GetValue(acknowledgements) is not null))
                return Usage(stderr, "--sqlite-path, --acknowledgements and --kill-process run one profile: hardened or heki-v2");
            if (ChaosFiles.Problem(parse.GetValue(report), parse.GetValue(findings), parse.GetValue(sqlite), parse.GetValue(acknowledgements),
                    parse.GetValue(killProcess) > 0) is { } fileProblem)
                return Usage(stderr, fileProblem);

            // The journal is checked and locked as heki simulate's (docs/reliability.md, "One process at a time") before
            // anything starts or is written. A child of --kill-process holds it for its life; the parent only checks it.
            var supervised = Environment.GetEnvironmentVariable(ChaosProcessSupervisor.ChildVariable) == "1";
            JournalFiles? journalFiles;
            try
            {
                journalFiles = parse.GetValue(sqlite) is { } journalFile
                    ? JournalFiles.Open([journalFile], supervised ? ChaosProcessSupervisor.ChildOwner : "heki chaos")
                    : null;
            }
            catch (UsageException e)
            {
                return Usage(stderr, e.Message);
            }
            catch (JournalInUseException e)
            {
                stderr.WriteLine("heki chaos: " + e.Message);
                return ExitCodes.JournalInUse;
            }

            using var journalLock = journalFiles;
            if (JournalProblem() is { } journalProblem)
            {
                journalFiles?.Abandon();
                return Usage(stderr, journalProblem);
            }

            if (parse.GetValue(killProcess) is var kills and > 0)
            {
                // Free for the first child: the parent never writes the journal, and a lock it held would refuse every child.
                journalFiles!.Dispose();
                var journalPath = parse.GetValue(sqlite)!;
                string[] child =
                [
                    // The child reads the same scenario (its per-kind rates) unless --faults or --rate replaced it.
                    .. parse.GetValue(scenarioFile) is { } file ? (string[])[file] : [],
                    "--profile", profiles[0].Name(), "--vms", $"{vmCount}", "--vcpus", $"{vcpuCount}",
                    "--memory-mb", $"{memoryMb}", "--seed", $"{seedValue}",
                    .. scenarioChaos is null
                        ? (string[])["--faults", parse.GetValue(faults)!, "--rate", parse.GetValue(rate).ToString(System.Globalization.CultureInfo.InvariantCulture)]
                        : [],
                    "--sqlite-path", journalPath, "--acknowledgements", journalPath + ".acks",
                    .. parse.GetValue(operations) is { } ops ? (string[])["--operations", $"{ops}"] : [],
                    .. parse.GetValue(findings) is { } dir ? (string[])["--findings", dir] : [],
                    .. parse.GetValue(report) is { } json ? (string[])["--report", json] : [],
                    // Each child serves the same telemetry (a killed child frees its port for the next).
                    .. parse.GetValue(telemetry) is { } exporters ? (string[])["--telemetry", exporters] : [],
                    .. parse.GetValue(metricsPort) is { } port ? (string[])["--metrics-port", port] : [],
                    .. parse.GetValue(finalScrapeWait) is { } wait ? (string[])["--final-scrape-wait", wait] : [],
                ];
                // A second signal ends the parent at once: the child goes with it.
                using var parentSignals = StopSignals.Register(_ => { }, _ => ChaosProcessSupervisor.KillChild());
                var childStatus = ChaosProcessSupervisor.Run(child, journalPath + ".acks", kills, seedValue,
                    parse.GetValue(operations) is null ? DateTime.UtcNow + runFor : null, stderr, parentSignals.Token);
                return parentSignals.Received is { } stoppedBy ? ExitCodes.StoppedBy(stoppedBy) : childStatus;
            }

            // A child of --kill-process is stopped by its parent alone (SIGTERM); a terminal's SIGINT or SIGHUP reaches the
            // whole process group, and the parent passes it on once.
            using var ignoreInterrupt = supervised
                ? System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => c.Cancel = true)
                : null;
            using var ignoreHangup = supervised
                ? System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, c => c.Cancel = true)
                : null;
            // The nodes of --cluster-nodes: a second signal kills them before this process ends at once.
            ChaosClusterNodes? ownNodes = null;
            using var signals = StopSignals.Register(_ => { }, _ => ownNodes?.KillAll(),
                only: supervised ? [System.Runtime.InteropServices.PosixSignal.SIGTERM] : null);
            var telemetryRun = new TelemetryRun(stderr, "heki chaos");
            // Around every profile's run and the report, so the last scrape or export sees the final counts.
            using var session = telemetryRun.Start(telemetryOptions);
            if (session is null)
                return ExitCodes.Failed;
            ChaosCluster? chaosCluster = null;
            if (clusterRun is not null)
            {
                try
                {
                    (ownNodes, chaosCluster) = clusterRun.Start(stderr, seedValue, signals.Token);
                }
                catch (TimeoutException e)
                {
                    stderr.WriteLine($"heki chaos: the cluster did not start: {e.Message}");
                    return ExitCodes.Failed;
                }
                catch (OperationCanceledException) when (signals.Received is { } early)
                {
                    return ExitCodes.StoppedBy(early);
                }
            }

            // Every node this run started is stopped however it ends (and leaves on its own if this process is killed).
            using var nodesGone = ownNodes;
            var runs = new List<(ChaosResult Result, IReadOnlyList<ChaosReproducer> Reproducers)>();
            var ranUntil = DateTime.UtcNow;
            foreach (var chosen in profiles)
            {
                var plan = scenarioChaos?.Plan(seedValue) ?? new FaultPlan(seedValue, kinds.ToDictionary(k => k, _ => parse.GetValue(rate)));
                var spec = new ChaosSpec(chosen, vmCount, vcpuCount, memoryMb,
                    parse.GetValue(operations) is null ? runFor : null, parse.GetValue(operations), seedValue, plan)
                {
                    SqlitePath = parse.GetValue(sqlite),
                    AcknowledgementLog = parse.GetValue(acknowledgements),
                    Cluster = chaosCluster,
                };
                var progress = new Progress<ChaosProgress>(p => stderr.WriteLine(
                    $"heki chaos: {chosen.Name()} {p.Elapsed.TotalSeconds:0}s: {p.Operations} operations, {p.FaultsInjected} faults, "
                    + (chaosCluster?.Nodes is null ? "" : $"{p.NodeFaults} node faults, ")
                    + $"{p.Violations} invariant violations, {p.Findings} findings"));
                ChaosResult result;
                try
                {
                    result = ChaosRunner.RunAsync(spec, progress, signals.Token).GetAwaiter().GetResult();
                }
                catch (TimeoutException e) when (chaosCluster is not null)
                {
                    // Could not join, or the cluster did not answer the run's first requests: nothing was checked.
                    stderr.WriteLine($"heki chaos: {e.Message}");
                    return ExitCodes.Failed;
                }

                ranUntil = DateTime.UtcNow;
                var reproducers = ChaosFiles.WriteReproducers(result, parse.GetValue(findings));
                runs.Add((result, reproducers));
            }

            // The last child of --kill-process reports the whole run: every process, and the time from the first one's start.
            var processes = supervised && KilledProcesses.FromEnvironment() is { } history
                ? new ProcessRuns(history, Environment.ProcessId,
                    ranUntil - System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime(), signals.Received is not null)
                : null;
            if (processes is not null)
                runs = [.. runs.Select(r => (r.Result with { Elapsed = processes.Elapsed(ranUntil) }, r.Reproducers))];
            telemetryRun.End(session);
            if (parse.GetValue(report) == ChaosFiles.StandardOutput)
            {
                // As heki simulate: the JSON instead of the table on standard output.
                ChaosReport.WriteJson(stdout, runs, processes);
            }
            else
            {
                ChaosReport.Write(stdout, runs, processes);
                if (parse.GetValue(report) is { } path)
                    OutputFile.Write(path, $"--report {path}", file =>
                    {
                        using var writer = new StreamWriter(file, new System.Text.UTF8Encoding(false), leaveOpen: true);
                        ChaosReport.WriteJson(writer, runs, processes);
                    });
            }

            telemetryRun.WaitForFinalScrapeAsync(session, signals.Token).GetAwaiter().GetResult();
            if (signals.Received is { } signal)
                return ExitCodes.StoppedBy(signal);
            return runs.Any(r => r.Result.Violations > 0 || r.Result.NodeFaultProblem is not null) ? ExitViolations : ExitClean;
        }

        private static int Usage(TextWriter stderr, string problem, bool helpHint = true)
        {
            stderr.WriteLine("heki chaos: " + problem);
            if (helpHint)
                stderr.WriteLine("Try 'heki chaos --help'.");
            return ExitCodes.Usage;
        }

        private static bool TryFaults(string text, out FaultKind[] kinds, out NodeFaultKind[] nodeKinds, out string? problem)
        {
            problem = null;
            kinds = text == "all" ? FaultKinds.All : [];
            nodeKinds = text == "all" ? NodeFaultKinds.All : [];
            if (text is "all" or "none")
                return true;
            var list = new List<FaultKind>();
            var nodeList = new List<NodeFaultKind>();
            foreach (var word in text.Split(',', StringSplitOptions.TrimEntries))
            {
                if (word.Length == 0 && text.Split(',').Any(w => w.Trim().Length > 0))
                {
                    // 'drop_request,,delay': a kind left out by mistake, not nothing.
                    problem = $"an empty item in '{text}': name the fault kinds separated by single commas";
                    return false;
                }

                if (word.Length == 0)
                {
                    continue; // no kind at all (',,'): the message below
                }

                if (FaultKinds.TryParse(word, out var kind))
                {
                    list.Add(kind);
                }
                else if (NodeFaultKinds.TryParse(word, out var nodeKind))
                {
                    nodeList.Add(nodeKind);
                }
                else
                {
                    problem = $"unknown fault kind '{word}' (the kinds: {string.Join(", ", FaultKinds.All.Select(k => k.Name()).Concat(NodeFaultKinds.All.Select(k => k.Name())))})";
                    return false;
                }
            }

            if (list.Count + nodeList.Count == 0)
            {
                problem = $"no fault kind given in '{text}': name kinds, or all, or none (to inject nothing)";
                return false;
            }

            kinds = [.. list.Distinct()];
            nodeKinds = [.. nodeList.Distinct()];
            return true;
        }

    }
}
