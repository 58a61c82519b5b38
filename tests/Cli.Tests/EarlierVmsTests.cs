using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 8 item 4 on the command line: <c>heki simulate</c> on a SQLite journal that holds VMs of an earlier run refuses
/// unless told <c>--resume</c> or <c>--fresh</c>, says how many VMs and how to go on, and checks everything before anything
/// runs or any output is opened.
/// </summary>
public sealed class EarlierVmsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string[] Args(params string[] more) =>
        ["--vms", "3", "--vcpus", "2", "--memory-mb", "16", "--kernel", "synthetic", "--sqlite-path", _folder.File("j.db"), "--no-progress", .. more];

    /// <summary>A journal holding <paramref name="ids"/> as VMs of the given shape (sim-00000... are the run's own ids).</summary>
    private async Task Journal(string name, IEnumerable<string> ids, VmConfig? config = null, string? destroyed = null)
    {
        await using var host = HekiHost.Start(new HekiHostOptions(JournalKind.Sqlite, _folder.File(name), AkkaLogLevel: "OFF"));
        foreach (var id in ids)
            Assert.IsType<VmCreated>(await host.Ask(new CreateVm(id, Guid.NewGuid(), config ?? VmConfig.FromMegabytes(16, 2))));
        if (destroyed is not null)
        {
            await host.Ask(new CreateVm(destroyed, Guid.NewGuid(), VmConfig.FromMegabytes(16, 2)));
            await host.Ask(new DestroyVm(destroyed, Guid.NewGuid()));
        }
    }

    [Fact]
    public async Task A_journal_holding_VMs_is_refused_before_anything_runs_or_is_written()
    {
        await Journal("j.db", ["sim-00000", "sim-00001", "sim-00002"]);
        var record = _folder.File("run.jsonl", "keep me\n");
        var engine = new FakeSimulationEngine();

        var (code, output, error) = Samples.Run(engine, Args("--record", record));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        var path = _folder.File("j.db");
        Assert.Equal($"heki simulate: journal {path} holds 3 VMs an earlier run left (sim-00000 ... sim-00002); nothing ran: " +
            "--resume continues with them (their protections and pins stay in force), --fresh destroys them first " +
            $"('heki journal {path}' lists them)\n", error.ReplaceLineEndings("\n"));
        Assert.Empty(engine.Runs);
        Assert.Equal("keep me\n", File.ReadAllText(record));
    }

    [Fact]
    public async Task The_first_and_last_VM_named_are_in_the_order_of_their_numbers()
    {
        // A chaos run's 16 VMs: text order put chaos-9 last ("chaos-0 ... chaos-9").
        await Journal("j.db", Enumerable.Range(0, 16).Select(i => $"chaos-{i}"));
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args());

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("holds 16 VMs an earlier run left (chaos-0 ... chaos-15); nothing ran", error);
    }

    [Fact]
    public async Task A_journal_of_only_destroyed_VMs_or_none_runs_without_being_told()
    {
        await Journal("j.db", [], destroyed: "sim-00000");
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args());

        Assert.True(code == ExitCodes.Ok, error);
        Assert.Same(JournalStart.None, Assert.Single(engine.Starts));
    }

    [Fact]
    public async Task Fresh_destroys_every_VM_of_the_journal_first_and_says_so()
    {
        await Journal("j.db", ["sim-00000", "other"]);
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args("--fresh"));

        Assert.True(code == ExitCodes.Ok, error);
        Assert.Equal(["other", "sim-00000"], Assert.Single(engine.Starts).Destroy);
        Assert.StartsWith($"heki simulate: --fresh: destroying the 2 VMs an earlier run left in journal {_folder.File("j.db")} (other and sim-00000) " +
            "before the run; this is not part of the run or its recording\n", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Resume_takes_over_the_runs_VMs_and_leaves_the_others_as_they_are()
    {
        await Journal("j.db", ["sim-00000", "sim-00002", "sim-00007", "other"]);
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args("--resume"));

        Assert.True(code == ExitCodes.Ok, error);
        var start = Assert.Single(engine.Starts);
        Assert.Empty(start.Destroy);
        Assert.Equal(["sim-00000", "sim-00002"], start.Resume.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(VmConfig.FromMegabytes(16, 2), start.Resume["sim-00000"].Config);
        Assert.Equal($"heki simulate: --resume: taking over 2 VMs from journal {_folder.File("j.db")} (sim-00000 and sim-00002); 1 VM boots; " +
            "2 VMs of the journal are not part of this run and stay as they are (other and sim-00007)", error.ReplaceLineEndings("\n").Split('\n')[0]);
    }

    [Theory]
    [InlineData("--profile", "heki-v2", "heki-v2, 2 vCPUs x 16 MiB, MBEC on")]
    [InlineData("--vcpus", "1", "hardened, 1 vCPU x 16 MiB, MBEC on")]
    [InlineData("--no-mbec", null, "hardened, 2 vCPUs x 16 MiB, MBEC off")]
    public async Task Resume_refuses_VMs_of_another_shape_or_profile(string option, string? value, string runShape)
    {
        await Journal("j.db", ["sim-00001"]);
        var engine = new FakeSimulationEngine();
        string[] extra = value is null ? ["--resume", option] : ["--resume", option, value];

        var (code, _, error) = Samples.Run(engine, [.. Args(extra).Where((a, i) => !(option == "--vcpus" && i is 2 or 3))]);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"heki simulate: --resume: VM sim-00001 in journal {_folder.File("j.db")} is hardened, 2 vCPUs x 16 MiB, MBEC on, " +
            $"but this run's VMs are {runShape}; resume with the scenario and options that made the journal, or start over with --fresh\n",
            error.ReplaceLineEndings("\n"));
        Assert.Empty(engine.Runs);
    }

    [Theory]
    [InlineData(new[] { "--resume", "--fresh" }, "--resume and --fresh contradict each other")]
    [InlineData(new[] { "--resume", "--journal", "inmem" }, "--resume needs a SQLite journal (--journal sqlite or --sqlite-path): the inmem journal starts empty")]
    [InlineData(new[] { "--fresh", "--journal", "inmem" }, "--fresh needs a SQLite journal (--journal sqlite or --sqlite-path): the inmem journal starts empty")]
    public void Resume_and_fresh_are_checked_with_the_other_options(string[] args, string message)
    {
        var engine = new FakeSimulationEngine();
        var (code, _, error) = Samples.Run(engine, ["--no-progress", .. args]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"heki simulate: {message}\n", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Resume_on_a_new_journal_boots_everything_and_says_so()
    {
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args("--resume"));

        Assert.True(code == ExitCodes.Ok, error);
        Assert.Same(JournalStart.None, Assert.Single(engine.Starts));
        Assert.StartsWith($"heki simulate: --resume: journal {_folder.File("j.db")} does not exist yet; nothing to take over, all 3 VMs boot\n",
            error.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("--resume", "holds no VMs; nothing to take over, all 3 VMs boot")]
    [InlineData("--fresh", "holds no VMs; nothing to destroy")]
    public async Task Resume_or_fresh_on_a_journal_without_VMs_runs_and_says_so(string option, string said)
    {
        await Journal("j.db", [], destroyed: "sim-00000");
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args(option));

        Assert.True(code == ExitCodes.Ok, error);
        Assert.Same(JournalStart.None, Assert.Single(engine.Starts));
        Assert.StartsWith($"heki simulate: {option}: journal {_folder.File("j.db")} {said}\n", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task With_both_profiles_each_journal_is_checked_before_either_runs()
    {
        await Journal("j.heki-v2.db", ["sim-00000"], VmConfig.FromMegabytes(16, 2, profile: HekiProfile.HekiV2));
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, Args("--profile", "both"));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"journal {_folder.File("j.heki-v2.db")} holds 1 VM an earlier run left (sim-00000)", error);
        Assert.Empty(engine.Runs);
    }
}
