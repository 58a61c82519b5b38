using Akka.Actor;
using Akka.TestKit.Xunit2;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// The coordinator always answers, and at once when nothing more can come: a stop while the journal never answers,
/// a VM host that is gone, a journal that failed (issue 8: nothing hangs, Ctrl+C works whatever the journal does).
/// The VM host here is a probe that never answers anything.
/// </summary>
public sealed class SimulationCoordinatorStopTests : TestKit
{
    private static readonly SimulationSpec Spec = new(
        Vms: 3, VcpusPerVm: 1, MemoryMbPerVm: 64, Profile: HekiProfile.Hardened, Mbec: true, Duration: TimeSpan.FromMinutes(10),
        AccessesPerVcpu: null, Rounds: 2, Seed: 1, Workload: WorkloadMix.Default, Attacks: AttackMix.Default,
        Kernel: HekiActors.Simulation.Guest.GuestKernelSpec.Synthetic); // 64 MiB: the synthetic guest, whatever the default

    private readonly Akka.TestKit.TestProbe _hypervisor;
    private readonly Akka.TestKit.TestProbe _warnings;
    private readonly IActorRef _coordinator;

    public SimulationCoordinatorStopTests()
    {
        _hypervisor = CreateTestProbe();
        _warnings = CreateTestProbe();
        _coordinator = Sys.ActorOf(SimulationCoordinator.Props(Spec, progress: null, recorder: null, bootConcurrency: 16, runNonce: 1));
        _coordinator.Tell(new StartSimulation(_hypervisor.Ref, _warnings.Ref), TestActor);
        // Every VM asked to be created; the "journal" never lets an answer through.
        for (var i = 0; i < Spec.Vms; i++)
            _hypervisor.ExpectMsg<CreateVm>();
    }

    private SimulationResult Result()
    {
        _warnings.ExpectMsg<GetWarningStats>();
        _warnings.Reply(new WarningStats([], [], 0));
        return ExpectMsg<SimulationFinished>().Result;
    }

    [Fact]
    public void Stopped_while_no_VM_answers_its_boot_the_run_reports_at_once_with_none_booted()
    {
        _coordinator.Tell(StopSimulation.Instance);

        var result = Result();
        Assert.Equal(0, result.VmsBooted);
        Assert.Equal(0, result.VmsUnfinished);
        Assert.Null(result.Failure);
    }

    [Fact]
    public void A_VM_host_that_is_gone_ends_the_run_at_once()
    {
        Sys.Stop(_hypervisor.Ref);

        var result = Result();
        Assert.Equal("the VM host stopped", result.Failure);
        Assert.Equal(0, result.VmsBooted);
    }

    [Fact]
    public void A_journal_failure_stops_the_run_and_is_its_failure()
    {
        Sys.EventStream.Subscribe(_coordinator, typeof(JournalFailed));
        Sys.EventStream.Publish(new JournalFailed("vm-sim-00001", "disk I/O error"));

        var result = Result();
        Assert.Equal("the journal failed for vm-sim-00001: disk I/O error", result.Failure);
        Assert.Equal(0, result.VmsBooted);
    }
}
