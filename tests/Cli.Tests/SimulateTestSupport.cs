using HekiActors.Observability;
using System.CommandLine;
using HekiActors.Simulation;
using HekiActors.Cli.Simulate;
using HekiActors.Memory;

namespace HekiActors.Cli.Tests;

/// <summary>An engine that records the specs it was asked to run and returns counts derived from them.</summary>
internal sealed class FakeSimulationEngine : ISimulationEngine
{
    private readonly Lock _gate = new();

    public List<SimulationSpec> Runs { get; } = [];

    /// <summary>What each run was told to do with an earlier run's VMs.</summary>
    public List<JournalStart> Starts { get; } = [];

    /// <summary>Operations each run records (the recorder gets them as given).</summary>
    public int RecordedLinesPerRun { get; init; } = 3;

    public Exception? Throw { get; init; }

    public Task<SimulationResult> RunAsync(SimulationSpec spec, JournalStart start, IProgress<SimulationProgress>? progress,
        ISimulationRecorder? recorder, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Runs.Add(spec);
            Starts.Add(start);
        }

        if (Throw is not null)
        {
            throw Throw;
        }

        progress?.Report(new SimulationProgress("boot", spec.Vms / 2, spec.Vms, 0, 0, 0, 0, TimeSpan.FromSeconds(0.5), 0.1));
        progress?.Report(new SimulationProgress("workload", spec.Vms, spec.Vms, 1_000, 2, 3, 0, TimeSpan.FromSeconds(1), 0.5));
        for (var i = 0; i < RecordedLinesPerRun; i++)
        {
            recorder?.Record($"{{\"op\":\"read_cr\",\"vm\":\"vm-{i}\",\"vcpu\":0,\"cr\":0}}");
        }

        return Task.FromResult(Samples.Result(spec));
    }
}

/// <summary>Canned results and a way to run the command with captured output.</summary>
internal static class Samples
{
    /// <summary>A result whose counts follow from the spec; heki-v2 lets RW→R abuse through, as the RFC does.</summary>
    public static SimulationResult Result(SimulationSpec spec)
    {
        var perKind = (long)spec.Vms * spec.Rounds;
        var attacks = Enum.GetValues<AttackKind>().Select(kind =>
        {
            var attempted = perKind * spec.Attacks.PerVmPerRound(kind);
            var through = spec.Profile == HekiProfile.HekiV2 && kind == AttackKind.RelaxMutableThenAbuse;
            return new AttackTally(kind, spec.Profile, attempted, through ? 0 : attempted, through ? attempted : 0,
                through ? "heki-v2 drops pure downgrades" : null);
        }).ToList();
        return new SimulationResult(
            spec,
            Elapsed: TimeSpan.FromSeconds(11),
            BootElapsed: TimeSpan.FromSeconds(1),
            Counts: new HekiCounts
            {
                WorkloadPermitted = 1_000_000,
                WorkloadPageFaults = 2_000,
                WorkloadMmio = 6,
                AttackPermitted = 10,
                AttackPageFaults = 345,
                CrPinBlocks = 5,
                HypercallsByResult = [4_183, 17, 0, 0, 0, 0, 0],
                HypercallsRefusedCpl = 7,
                TranslationFills = 9_000,
                TranslationInvalidations = 800,
                ImmutableRejections = 600,
                WarningsEmitted = 40,
                WarningsSuppressed = spec.Profile == HekiProfile.HekiV2 ? 560 : 0,
                HostIntegrityFaults = spec.Profile == HekiProfile.HekiV2 ? 3 : 0,
                AttacksBlocked = attacks.Sum(a => a.Blocked),
                AttacksSucceeded = attacks.Sum(a => a.Succeeded),
            },
            FastPathNanoseconds: new LatencySummary(50_000, 35, 60, 120, 900),
            SlowPathNanoseconds: new LatencySummary(9_000, 1_200, 3_400, 9_900, 20_000),
            HypercallNanoseconds: new LatencySummary(4_200, 15_000, 30_000, 80_000, 1_000_000),
            Attacks: attacks,
            BootFailures: []);
    }

    public static (int Code, string Output, string Error) Run(FakeSimulationEngine engine, params string[] args)
    {
        var root = new RootCommand("test") { SimulateCommand.Build(() => engine) };
        var output = new StringWriter();
        var error = new StringWriter();
        var code = root.Parse(["simulate", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}

/// <summary>A temporary folder for scenario, record and report files, removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("heki-simulate-tests-").FullName;

    public string File(string name, string? text = null)
    {
        var path = System.IO.Path.Combine(Path, name);
        if (text is not null)
        {
            System.IO.File.WriteAllText(path, text);
        }

        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
