using Akka.Actor;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using HekiActors.Simulation.Chaos;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests.Chaos;

/// <summary>
/// A chaos run continued from its acknowledgement log (docs/chaos.md, "Killing the process"), and how its senders resend.
/// The case a loaded machine produced (ChaosKillProcessTests, load 40-69): a restarted process's first operation, a
/// change, went unanswered after every resend while its VM recovered, was applied afterwards, and the process probed and
/// was killed; the next process resumed after the probes' operation number, never resent the change, and reported the
/// change in force, which the oracle never heard of, as a lost acknowledged change.
/// </summary>
public sealed class ChaosRestartTests : IDisposable
{
    private const ulong Seed = 1;
    private const string Vm = "chaos-0";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("heki-chaos-restart-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Journal => Path.Combine(_folder, "k.db");

    private string Log => Path.Combine(_folder, "k.db.acks");

    // No faults, and a reply timeout no loaded machine reaches: every request is answered at its first send.
    private ChaosSpec Spec(long operations) =>
        new(HekiProfile.Hardened, 1, 2, 64, null, operations, Seed, FaultPlan.None, ReplyTimeout: Wait)
        {
            SqlitePath = Journal,
            AcknowledgementLog = Log,
        };

    [Fact]
    public async Task A_restarted_run_resends_the_change_an_earlier_process_left_unanswered_even_after_that_process_probed()
    {
        // The VM's first host set_permissions that changes what a probe reads; the operations before it are acknowledged.
        var (number, change) = FirstVisibleChange();
        var first = await ChaosRunner.RunAsync(Spec(number - 1));
        Assert.Equal(0, first.Violations);

        // The second process: its first operation (the change) is applied, but its answer never reached the sender, which
        // logged nothing for it and probed the VM (reading the gfn as it was before), then was killed.
        ulong before;
        var host = await HekiHost.StartAsync(new HekiHostOptions(JournalKind.Sqlite, Journal, SystemName: "heki-chaos-test"));
        await using (host.ConfigureAwait(false))
        {
            before = ((PermissionsValue)await host.Ask(new GetPermissions(Vm, change.Start), Wait)).Attr;
            Assert.NotEqual(change.Attr, before); // the change shows
            var applied = await host.Ask(ReplayMessages.ToMessage(change, HekiProfile.Hardened, RequestIds.Derive(Seed, 0, (ulong)number)), Wait);
            Assert.Equal(new HostReturn(0), applied);
        }

        using (var log = AcknowledgementLog.Open(Log))
        {
            log.Started(1);
            log.Acknowledged(0, number, new GetPermissionsRequest(Vm, change.Start), new AttrResult(before), probe: true);
        }

        // The third process resumes after the last acknowledged operation: it resends the change, is answered from the
        // VM's record, and its probes find the change in force and known.
        var third = await ChaosRunner.RunAsync(Spec(number + 3));

        Assert.True(third.Findings.Count == 0, string.Join("\n", third.Findings.Select(f => f.Finding.ToString())));
        Assert.Equal(0, third.Violations);
        Assert.Equal(0, third.Unanswered);
        var resent = AcknowledgementLog.Read(Log).Operations.Where(e => e is { Vm: 0, Probe: false } && e.Operation == number).ToList();
        Assert.Equal(new RetResult(0), Assert.Single(resent).Result);
        Assert.Equal(change, resent[0].Request);
    }

    [Fact]
    public async Task A_change_is_resent_until_answered_long_after_a_read_would_have_been_given_up()
    {
        var (ask, calls) = AnsweredAtSend(21);
        Assert.Equal("answer", await Resending.AskAsync(ask, resends: 480, resendsOnceStopping: 8, CancellationToken.None));
        Assert.Equal(21, calls());
    }

    [Fact]
    public async Task A_read_is_given_up_after_its_resends()
    {
        var (ask, calls) = AnsweredAtSend(21);
        Assert.Null(await Resending.AskAsync(ask, resends: 8, resendsOnceStopping: 8, CancellationToken.None));
        Assert.Equal(9, calls());
    }

    [Fact]
    public async Task Once_the_run_is_stopping_a_change_is_given_up_after_a_reads_resends()
    {
        var (ask, calls) = AnsweredAtSend(21);
        using var stopped = new CancellationTokenSource();
        await stopped.CancelAsync();
        Assert.Null(await Resending.AskAsync(ask, resends: 480, resendsOnceStopping: 8, stopped.Token));
        Assert.Equal(9, calls());
    }

    [Fact]
    public void A_change_is_resent_for_two_minutes_locally_and_against_a_cluster()
    {
        var local = Spec(1) with { ReplyTimeout = null };
        Assert.Equal(ChaosSpec.MaxResends, local.Resends);
        Assert.Equal(480, local.ChangeResends);
        Assert.Equal(120, (local with { Cluster = new ChaosCluster(["akka.tcp://heki@127.0.0.1:1"]) }).ChangeResends);
    }

    /// <summary>A send that times out until its <paramref name="answeredAt"/>-th call, and the number of calls so far.</summary>
    private static (Func<Task<object>> Ask, Func<int> Calls) AnsweredAtSend(int answeredAt)
    {
        var calls = 0;
        return (() => ++calls < answeredAt ? Task.FromException<object>(new AskTimeoutException("no reply")) : Task.FromResult<object>("answer"),
            () => calls);
    }

    /// <summary>VM 0's first set_permissions (after its create) that sets permissions other than the default RWX.</summary>
    private static (long Number, SetPermissionsRequest Change) FirstVisibleChange()
    {
        var workload = new ChaosWorkload(Seed, 0, Vm, 2, 64);
        for (var number = 1L; ; number++)
        {
            if (workload.Next() is SetPermissionsRequest { Attr: > 0 and < 7 } change && number > 1)
                return (number, change);
        }
    }
}
