using Akka.Actor;
using Akka.TestKit;
using HekiActors.Memory;
using HekiActors.Protocol;

namespace HekiActors.Vcpu.Tests;

/// <summary>
/// The memory guard of a running vCPU (issue 11, docs/benchmarks.md "Running VMs at 10,000: memory and GC (third pass)"):
/// the vCPU runs on the test's thread (a TestActorRef's calling-thread dispatcher), so the bytes it allocates are counted
/// exactly by <see cref="GC.GetAllocatedBytesForCurrentThread"/>, whatever the machine's speed or load.
/// </summary>
public sealed class RunningVcpuMemoryTests : Akka.TestKit.Xunit2.TestKit
{
    private const ulong MemoryPages = 1024;

    private static readonly WorkloadSpec Workload = new(WorkloadMix.Default, [new GfnRange(256, 300)], [new GfnRange(256, 400)],
        [new GfnRange(300, 400)], [new GfnRange(400, 500)]);

    /// <summary>
    /// A vCPU's first workload round: its part buffers (512 accesses: 5 KB), its histograms (the fast path's at most
    /// 721 buckets, 6 KB, whatever the timings), translations and counters. Its whole-chunk buffers alone were 41 KB.
    /// </summary>
    private const long FirstRoundBytes = 20 * 1024;

    /// <summary>
    /// Later rounds allocate only when a latency lands in a bucket its histograms do not hold yet (bounded by the same
    /// 721 buckets): nothing per access, nothing per chunk. One allocation per access would be 24 bytes × 262,144.
    /// </summary>
    private const long LaterRoundBytes = 16 * 1024;

    private const int LaterChunks = 64;

    [Fact]
    public void A_running_vcpu_holds_small_workload_buffers_and_allocates_nothing_per_access_or_chunk()
    {
        var vm = CreateTestProbe();
        var guest = CreateTestProbe();
        var config = new VmConfig(MemoryPages, 1, Mbec: false, PrivateMemory: false, HekiProfile.Hardened);
        var vcpu = ActorOfAsTestActorRef<VcpuActor>(VcpuActor.Props("vm", 0, config, guest.Ref), vm.Ref, "vcpu");
        vm.ExpectMsg<VcpuAttach>();
        vcpu.Tell(new VcpuState(new ulong[VcpuActor.ControlRegisterCount], 1), vm.Ref);
        // A warm-up vCPU of the same spec: type loading, JIT and the compiled spec are not the measured vCPU's.
        RunRound(vcpu, vm, guest, round: 0, accesses: VcpuActor.WorkloadChunk, fillFirst: true);

        var fresh = ActorOfAsTestActorRef<VcpuActor>(VcpuActor.Props("vm", 1, config, guest.Ref), vm.Ref, "fresh");
        vm.ExpectMsg<VcpuAttach>();
        fresh.Tell(new VcpuState(new ulong[VcpuActor.ControlRegisterCount], 1), vm.Ref);
        var (_, firstRound) = RunRound(fresh, vm, guest, round: 0, accesses: 4 * VcpuActor.WorkloadChunk, fillFirst: true);
        var (done, laterRound) = RunRound(fresh, vm, guest, round: 1, accesses: LaterChunks * VcpuActor.WorkloadChunk, fillFirst: false);

        Assert.Equal(LaterChunks * VcpuActor.WorkloadChunk, done.Accesses);
        Assert.Equal(0, done.Faulted);
        Assert.True(firstRound <= FirstRoundBytes, $"a vCPU's first round allocated {firstRound} bytes (guard: {FirstRoundBytes})");
        Assert.True(laterRound <= LaterRoundBytes,
            $"{LaterChunks} more chunks allocated {laterRound} bytes (guard: {LaterRoundBytes}, nothing per access or chunk)");
    }

    /// <summary>
    /// Runs a round on the test's thread: the first access misses (answered with all of memory), the rest hit. Returns
    /// the bytes the vCPU allocated (while it ran: the test's own waits for its messages are not counted).
    /// </summary>
    private (WorkloadDone Done, long Allocated) RunRound(IActorRef vcpu, TestProbe vm, TestProbe guest, long round, long accesses,
        bool fillFirst)
    {
        var run = new RunWorkload("vm", 0, 7, round, accesses, null, Workload, null);
        var before = GC.GetAllocatedBytesForCurrentThread();
        vcpu.Tell(run, guest.Ref);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (fillFirst)
        {
            var miss = vm.ExpectMsg<TranslateRequest>();
            var fill = new TranslationFill(miss.Gfn, 0, MemoryPages, (byte)HekiAttributes.DefaultPermissions, 1);
            before = GC.GetAllocatedBytesForCurrentThread();
            vcpu.Tell(fill, vm.Ref);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        return (guest.ExpectMsg<WorkloadDone>(), allocated);
    }
}
