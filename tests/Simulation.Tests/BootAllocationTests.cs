using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Guest;
using Xunit.Abstractions;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// What a VM's boot allocates (issue 11, docs/benchmarks.md "Density at boot (third pass)"): the default guest booted
/// (its VM created, its kernel protected, its CRs pinned), no workload, in bytes allocated by every thread, per VM: the
/// difference between a boot of many VMs and of few, so the actor system's own start and stop cancel out. Counted, not
/// timed, and with no other test running (the collection below).
/// </summary>
[Collection(AllocationCounting.Name)]
public sealed class BootAllocationTests(ITestOutputHelper output)
{
    /// <summary>
    /// Measured 111.5 KB a VM after the third boot pass (compact mailboxes, factory-made actors, no replay filter, warning
    /// lines formatted only when read, no shootdown before a VM's first translation); 136.8–140.2 KB before it, 148.7–149.1 KB with Akka's MemoryJournal, the VM's persist
    /// closures and the guest's per-request closure back (the journal's share grows with the number of VMs). 104.7–106.3 KB after
    /// the fourth pass (histograms made on first use, no Persistent copy per event in the in-memory journal, the vCPU's
    /// logger made at its first warning). 97.8 KB after the fifth (docs/benchmarks.md "Boot density (fifth pass)": the answer
    /// record in one ring, store leaves sized to their boundaries, one producer per actor's props, 32 boots at once in memory).
    /// </summary>
    private const long BytesPerVm = 102_000;

    [Fact]
    public async Task A_VMs_boot_allocates_a_bounded_number_of_bytes()
    {
        await BootAsync(20); // JIT, type loading, statics
        var few = await BootAsync(40);
        var many = await BootAsync(440);
        var perVm = (many - few) / 400;

        output.WriteLine($"{perVm:N0} bytes a VM");
        Assert.True(perVm <= BytesPerVm, $"a VM's boot allocates {perVm:N0} bytes (guard: {BytesPerVm:N0})");
    }

    /// <summary>Boots <paramref name="vms"/> VMs as the benchmarks' boot harness does; the bytes every thread allocated.</summary>
    private static async Task<long> BootAsync(int vms)
    {
        var spec = new SimulationSpec(vms, VcpusPerVm: 2, MemoryMbPerVm: 4096, HekiProfile.Hardened, Mbec: true, Duration: null,
            AccessesPerVcpu: 0, Rounds: 1, Seed: 1, WorkloadMix.Default, AttackMix.None);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await new SimulationEngine().RunAsync(spec, null, null, CancellationToken.None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(vms, result.VmsBooted);
        return allocated;
    }
}

/// <summary>Tests that count every thread's allocations: run alone, never beside another test.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCounting
{
    public const string Name = "allocation counting";
}
