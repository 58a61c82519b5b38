using Akka.Configuration;
using Akka.TestKit;
using HekiActors.Memory;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>A workload's deadline is read from the actor system's scheduler (the injected clock), never the wall clock.</summary>
public sealed class WorkloadClockTests(ITestOutputHelper output) : ActorTestBase(output, config: ConfigurationFactory.ParseString(
    "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\""))
{
    private static readonly WorkloadSpec Workload = new(WorkloadMix.Default, [new GfnRange(256, 300)], [new GfnRange(256, 400)],
        [new GfnRange(300, 400)], [new GfnRange(400, 500)]);

    private const long Accesses = 10 * 4096;

    [Fact]
    public void A_workload_runs_to_its_count_while_the_scheduler_clock_is_before_the_deadline()
    {
        CreateVm("a", vcpus: 1);
        var scheduler = (TestScheduler)Sys.Scheduler;

        var done = Request<WorkloadDone>(new RunWorkload("a", 0, 1, 0, Accesses, scheduler.Now + TimeSpan.FromHours(1), Workload, null));

        Assert.Equal(Accesses, done.Accesses);
    }

    [Fact]
    public void A_workload_stops_at_the_first_chunk_once_the_scheduler_clock_passed_its_deadline()
    {
        CreateVm("a", vcpus: 1);
        var scheduler = (TestScheduler)Sys.Scheduler;
        var deadline = scheduler.Now + TimeSpan.FromHours(1);
        scheduler.Advance(TimeSpan.FromHours(2));

        var done = Request<WorkloadDone>(new RunWorkload("a", 0, 1, 0, Accesses, deadline, Workload, null));

        // The wall clock is nowhere near the deadline: only the injected clock can have stopped it.
        Assert.Equal(4096, done.Accesses);
    }
}
