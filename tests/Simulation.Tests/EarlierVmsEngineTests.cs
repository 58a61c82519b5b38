using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Memory.Vm;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// Issue 8 item 4 on the engine: a run on a journal that holds an earlier run's VMs never throws their protections away
/// silently. Told nothing, its guests refuse to boot over them; told to resume, they take them over (no boot hypercall,
/// nothing protected again) and the recording replays; told to start fresh, they are destroyed first, unrecorded.
/// </summary>
public sealed class EarlierVmsEngineTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"heki-earlier-{Guid.NewGuid():N}.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-journal", _path + ".lock" })
            File.Delete(file);
    }

    private SimulationSpec Spec(HekiProfile profile = HekiProfile.Hardened, int vms = 2, ulong seed = 7) => new(
        Vms: vms, VcpusPerVm: 2, MemoryMbPerVm: 64, Profile: profile, Mbec: true, Duration: null, AccessesPerVcpu: 2_000,
        Rounds: 3, Seed: seed, Workload: WorkloadMix.Default, Attacks: AttackMix.Default,
        Kernel: GuestKernelSpec.Synthetic) // 64 MiB: the synthetic guest, whatever the default
    {
        Journal = JournalKind.Sqlite,
        SqlitePath = _path,
    };

    private static Task<SimulationResult> Run(SimulationSpec spec, JournalStart start, ulong nonce, ISimulationRecorder? recorder = null) =>
        new SimulationEngine(new SimulationEngineOptions(RunNonce: nonce)).RunAsync(spec, start, null, recorder, CancellationToken.None);

    private async Task<Dictionary<string, VmSnapshot>> Journaled()
    {
        await using var reader = JournalReader.Open(_path);
        var vms = new Dictionary<string, VmSnapshot>(StringComparer.Ordinal);
        foreach (var id in await reader.VmIdsAsync())
        {
            var vm = await reader.ReadAsync(id);
            if (vm.Exists)
                vms.Add(id, vm.State);
        }

        return vms;
    }

    [Fact]
    public async Task Told_nothing_the_guests_refuse_to_boot_over_an_earlier_runs_VMs_and_leave_them_as_they_were()
    {
        await Run(Spec(), JournalStart.None, 1);
        var before = await Journaled();

        var second = await Run(Spec(), JournalStart.None, 2);

        Assert.Equal(2, second.Counts.BootProtectionFailures);
        var failure = Assert.Single(second.BootFailures);
        Assert.Equal("the VM could not boot: the journal already holds a VM of this id from an earlier run, which this run was not told to resume or destroy", failure.Reason);
        Assert.Equal((2L, "sim-00000"), (failure.Vms, failure.FirstVm));
        Assert.Equal(0, second.Counts.Hypercalls);
        var after = await Journaled();
        Assert.Equal(before.Keys, after.Keys);
        foreach (var (id, vm) in before)
            Assert.Equal(vm.Runs, after[id].Runs);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened)]
    [InlineData(HekiProfile.HekiV2)]
    public async Task Resumed_the_guests_take_over_their_VMs_protect_nothing_again_and_the_recording_replays(HekiProfile profile)
    {
        var first = await Run(Spec(profile), JournalStart.None, 1);
        var journaled = await Journaled();
        var recorder = new ListRecorder();

        var resumed = await Run(Spec(profile, vms: 3), JournalStart.Resuming(journaled), 2, recorder);

        Assert.Equal(2, resumed.VmsResumed);
        Assert.Equal(3, resumed.VmsBooted);
        Assert.Equal(0, resumed.Counts.BootProtectionFailures);
        var kernel = resumed.GuestKernel!;
        Assert.Equal(1, kernel[KernelCounter.Boots]);
        Assert.Equal(2, kernel[KernelCounter.Resumes]);
        Assert.Equal(0, kernel[KernelCounter.ModuleLoadFailures]);
        // The first run's VMs made no boot hypercall (protect + two pins); every module load succeeded.
        Assert.Equal(first.Hypercalls / 2 * 3 - 2 * 3, resumed.Hypercalls);

        // The recording starts each resumed VM with the lines that rebuild it, and replays to what was observed.
        Assert.Equal(2, recorder.Lines.Count(l => l.StartsWith("{\"op\":\"create_vm\"", StringComparison.Ordinal) && l.Contains("\"resumed\":true")));
        var replayed = await SimulationReplayer.Replay(recorder.Lines, profile);
        var observed = 0;
        foreach (var (request, result) in replayed)
        {
            if (request.TryGetProperty("resumed", out _))
                Assert.Contains(result, new[] { "ok", "0" });
            if (!request.TryGetProperty("observed", out var value))
                continue;
            observed++;
            Assert.Equal(value.ToString(), result);
        }

        Assert.True(observed > 20);
    }

    [Fact]
    public async Task A_resumed_VMs_protections_are_in_force_from_its_first_round()
    {
        await Run(Spec(), JournalStart.None, 1);
        var journaled = await Journaled();

        var resumed = await Run(Spec(), JournalStart.Resuming(journaled), 2);

        // Every attack is blocked under hardened, exactly as on a freshly booted VM.
        Assert.Equal(0, resumed.Counts.AttacksSucceeded);
        Assert.True(resumed.Counts.AttacksBlocked > 0);
    }

    private sealed class ListRecorder : ISimulationRecorder
    {
        public List<string> Lines { get; } = [];

        public void Record(string jsonRequestLine)
        {
            lock (Lines)
                Lines.Add(jsonRequestLine);
        }
    }
}
