using Akka.Actor;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>
/// §6, last rule, under load: vCPUs 1..3 hammer writes at a range while vCPU 0 protects it read-only. Once the
/// hypercall has returned, not one write to the range completes.
/// </summary>
public class ConcurrencyTests(ITestOutputHelper output) : ActorTestBase(output)
{
    private const ulong FirstGfn = 0x400;
    private const int PagesInRange = 64;
    private const int WritesPerBatch = 500;
    private const int InFlightPerVcpu = 4;
    private const int HammeringVcpus = 3;
    private const int RepliesBeforeProtect = 9;
    private const int PostReplyWritesWanted = 10_000;

    private sealed record Submission(bool AfterProtectReply);

    private sealed record Outcome(int Vcpu, bool AfterProtectReply, GuestAccessBatchDone Done);

    [Theory]
    [InlineData(1, HekiProfile.Hardened)]
    [InlineData(2, HekiProfile.HekiV2)]
    [InlineData(3, HekiProfile.Hardened)]
    [InlineData(4, HekiProfile.HekiV2)]
    [InlineData(5, HekiProfile.Hardened)]
    public void After_a_read_only_protect_returns_no_write_to_the_range_completes_on_any_vcpu(int seed, HekiProfile profile)
    {
        var vmId = $"hammer-{seed}";
        CreateVm(vmId, vcpus: 1 + HammeringVcpus, memoryMb: 16, mbec: true, profile: profile);
        var batches = MakeBatches(seed);
        var probe = CreateTestProbe();
        var queues = Enumerable.Range(0, 1 + HammeringVcpus).Select(_ => new Queue<Submission>()).ToArray();
        var outcomes = new List<Outcome>();
        var protectProbe = CreateTestProbe();
        var protectSent = false;
        HypercallDone? protectReply = null;
        var next = 0;
        var postReplyWrites = 0;

        void Submit(int vcpu)
        {
            // Recorded before sending: true only if the protect's reply had already been received.
            if (protectReply is null && protectSent && protectProbe.HasMessages)
                protectReply = protectProbe.ExpectMsg<HypercallDone>(TimeSpan.Zero);
            queues[vcpu].Enqueue(new Submission(protectReply is not null));
            var batch = batches[next++ % batches.Length];
            Vms.Tell(new GuestAccessBatch(vmId, vcpu, batch.Gpas, batch.Kinds, batch.Cpls, ReportEach: false), probe.Ref);
        }

        for (var vcpu = 1; vcpu <= HammeringVcpus; vcpu++)
            for (var k = 0; k < InFlightPerVcpu; k++)
                Submit(vcpu);

        while (queues.Any(q => q.Count > 0))
        {
            var done = probe.ExpectMsg<GuestAccessBatchDone>(Timeout);
            var vcpu = VcpuOf(probe.LastSender);
            var submission = queues[vcpu].Dequeue();
            outcomes.Add(new Outcome(vcpu, submission.AfterProtectReply, done));
            if (submission.AfterProtectReply)
                postReplyWrites += done.Permitted + done.Faulted;

            // Not before every hammering vCPU has finished a batch: which vCPU the dispatcher runs first is its choice.
            if (!protectSent && outcomes.Count >= RepliesBeforeProtect
                && Enumerable.Range(1, HammeringVcpus).All(v => outcomes.Exists(o => o.Vcpu == v)))
            {
                protectSent = true;
                Vms.Tell(
                    new GuestProtectMemory(vmId, 0, Guid.NewGuid(), [[Gfns(FirstGfn, FirstGfn + PagesInRange, R | X)]], 0), protectProbe.Ref);
            }

            Assert.True(outcomes.Count < 10_000, "the protect never returned while the vCPUs were busy");
            if (postReplyWrites < PostReplyWritesWanted)
                Submit(vcpu);
        }

        Assert.True(protectSent);
        protectReply ??= protectProbe.ExpectMsg<HypercallDone>(Timeout);
        Assert.Equal(0, protectReply.Ret);
        // The protect is the VM's only change, so the VM's generation is the one it produced.
        var generation = Status(vmId).Generation;
        Assert.True(generation >= 1, $"the protect produced no shootdown generation ({generation})");

        // The test can fail: writes were permitted before the protect, from every hammering vCPU.
        for (var vcpu = 1; vcpu <= HammeringVcpus; vcpu++)
            Assert.Contains(outcomes, o => o.Vcpu == vcpu && o.Done.Permitted > 0 && o.Done.Generation < generation);

        // (a) No batch finished at or after the protect's generation permitted a write.
        var late = outcomes.Where(o => o.Done.Generation >= generation).ToArray();
        Assert.NotEmpty(late);
        Assert.All(late, o => Assert.Equal(0, o.Done.Permitted));

        // (b) Every batch submitted after the reply was received only faulted.
        var afterReply = outcomes.Where(o => o.AfterProtectReply).ToArray();
        Assert.All(afterReply, o =>
        {
            Assert.Equal(0, o.Done.Permitted);
            Assert.Equal(WritesPerBatch, o.Done.Faulted);
            Assert.True(o.Done.Generation >= generation);
        });
        Assert.True(postReplyWrites >= PostReplyWritesWanted, $"only {postReplyWrites} writes checked after the reply");
        Output?.WriteLine($"seed {seed}: {outcomes.Count} batches, {afterReply.Length} after the reply ({postReplyWrites} writes)");

        // And the store agrees.
        Assert.Equal(R | X, Permissions(vmId, FirstGfn));
        Assert.Equal(R | X, Permissions(vmId, FirstGfn + PagesInRange - 1));
        Assert.Equal(7UL, Permissions(vmId, FirstGfn + PagesInRange));
    }

    private static int VcpuOf(IActorRef sender)
    {
        var name = sender.Path.Name;
        Assert.StartsWith("vcpu-", name);
        return int.Parse(name["vcpu-".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static (ulong[] Gpas, AccessKind[] Kinds, byte[] Cpls)[] MakeBatches(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 8).Select(_ =>
        {
            var gpas = new ulong[WritesPerBatch];
            var cpls = new byte[WritesPerBatch];
            for (var i = 0; i < WritesPerBatch; i++)
            {
                gpas[i] = Gpa(FirstGfn + (ulong)random.Next(PagesInRange)) + (ulong)random.Next(4096);
                cpls[i] = (byte)random.Next(4);
            }

            return (gpas, Enumerable.Repeat(AccessKind.Write, WritesPerBatch).ToArray(), cpls);
        }).ToArray();
    }
}
