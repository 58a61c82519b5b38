using Akka.Actor;
using HekiActors.Actors.Supervision;
using HekiActors.Actors.Vm;
using HekiActors.Protocol;
using HekiActors.Simulation.Chaos;

namespace HekiActors.Simulation;

/// <summary>What a guest kernel needs to inject the scenario's faults besides its plan: the warning supervisor to crash, the clock to skew.</summary>
/// <param name="Clock">The rate limiters' clock (null: clock_skew is off).</param>
public sealed record GuestChaos(IActorRef Warnings, SkewedClock? Clock);

/// <summary>
/// The scenario's chaos section (docs/chaos.md, "In heki simulate"): the faults <c>heki chaos</c> injects, around this
/// guest kernel's requests, decided by the same <see cref="FaultPlan"/> from the seed and each request's number. A
/// request that changes the VM is sent with Ask, its answer tagged with its number (so a late answer to an earlier copy
/// is never taken for a later request's), and resent with its id every <see cref="ResendAfter"/> until answered, at
/// most <see cref="ReplyTimeout"/>: the VM applies it once. An access is never copied nor resent (a copy would run twice).
/// Before a crash (or a journal write failure, which stops the VM) the kernel banks the counts of the vCPUs it restarts
/// (a restarted vCPU counts from zero), and adds them once the request is answered.
/// </summary>
public sealed partial class GuestKernelActor
{
    /// <summary>How long a changing request waits for its answer under chaos before it is sent again (same id).</summary>
    public static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(1);

    private const string SendTimer = "chaos-send";

    private readonly GuestFaults? _faults;
    private readonly GuestChaos? _chaos;
    private readonly List<(ulong Due, object Message)> _late = [];
    private object? _inFlight;
    private ulong _inFlightNumber;
    private bool _inFlightChanges;
    private int _banking;
    private readonly List<VcpuCounts> _banked = [];
    private bool _bankedOnlyForWrite;
    private Action? _afterBanking;

    /// <summary>Sends request number <see cref="_requests"/> to the VM: at once, or with the faults the plan decides for it.</summary>
    /// <param name="changes">Whether the request changes the VM (it has a request id: copies and resends are applied once).</param>
    /// <param name="vmExists">False for the create: nothing to crash, no journal yet.</param>
    private void Send(object command, bool changes, bool vmExists)
    {
        if (_faults is null)
            _vms.Tell(command);
        else
            SendWithFaults(_faults, command, changes, vmExists); // apart: its closure was allocated for every request, chaos or not
    }

    private void SendWithFaults(GuestFaults faults, object command, bool changes, bool vmExists)
    {
        var number = _requests;
        var identity = faults.IdentityOf(number);
        DeliverLate(number);
        _inFlight = command;
        _inFlightNumber = number;
        _inFlightChanges = changes;
        // Crashes only before a request that is resent until answered: an access sent to a VM whose recovery just failed
        // would be lost, and an access is never resent.
        var crashes = vmExists && changes;
        var recovery = crashes && faults.Hits(FaultKind.JournalRecoveryFailure, identity);
        var crashVm = recovery || (crashes && faults.Hits(FaultKind.CrashVm, identity));
        var crashVcpu = crashes && faults.Hits(FaultKind.CrashVcpu, identity)
            ? (int)faults.Parameter(FaultKind.CrashVcpu, identity, (ulong)_spec.VcpusPerVm)
            : -1;
        // A failed journal write stops the VM, and its vCPUs with it.
        var writeFailure = crashes && faults.Hits(FaultKind.JournalWriteFailure, identity);

        void Go()
        {
            if (_gaveUp)
                return;
            var journal = JournalFaults.Get(Context.System);
            var persistenceId = VmActor.PersistenceIdFor(_vmId);
            if (vmExists && faults.Hits(FaultKind.ClockSkew, identity))
                _chaos!.Clock?.Jump(TimeSpan.FromMilliseconds((long)faults.Parameter(FaultKind.ClockSkew, identity, 12_000) - 6_000));
            if (vmExists && faults.Hits(FaultKind.CrashWarnings, identity))
                _chaos!.Warnings.Tell(new CrashWarningSupervisor("chaos"), ActorRefs.Nobody);
            if (crashVcpu >= 0)
                _vms.Tell(new CrashVcpu(_vmId, crashVcpu, "chaos"), ActorRefs.Nobody);
            if (crashVm)
            {
                // The VM's next recovery fails once (journal_recovery_failure): it is started again and recovers.
                if (recovery)
                    journal.Arm(persistenceId, new ArmedJournalFault(JournalFault.RecoveryFailure, TimeSpan.Zero));
                _vms.Tell(new CrashVm(_vmId, "chaos"), ActorRefs.Nobody);
            }

            if (writeFailure)
                journal.Arm(persistenceId, new ArmedJournalFault(JournalFault.WriteFailure, TimeSpan.Zero));
            if (vmExists && changes && faults.Hits(FaultKind.JournalStall, identity))
                journal.Arm(persistenceId, new ArmedJournalFault(JournalFault.WriteStall,
                    TimeSpan.FromMilliseconds(1 + faults.Parameter(FaultKind.JournalStall, identity, 50))));

            var wait = 0UL;
            if (faults.Hits(FaultKind.Delay, identity))
                wait += 1 + faults.Parameter(FaultKind.Delay, identity, 20);
            if (faults.Hits(FaultKind.DropRequest, identity))
                wait += 1 + faults.Parameter(FaultKind.DropRequest, identity, 10); // lost on the way: sent again after a wait
            if (changes)
            {
                // A copy whose answer is lost, a second copy, a copy delivered 1-5 requests later: each answered from the VM's record.
                if (faults.Hits(FaultKind.DropReply, identity))
                    _vms.Tell(command, ActorRefs.Nobody);
                if (faults.Hits(FaultKind.Duplicate, identity))
                    _vms.Tell(command, ActorRefs.Nobody);
                if (vmExists && faults.Hits(FaultKind.Reorder, identity))
                    _late.Add((number + 1 + faults.Parameter(FaultKind.Reorder, identity, 5), command));
            }

            if (wait > 0)
                Timers.StartSingleTimer(SendTimer, new SendNow(number), TimeSpan.FromMilliseconds(wait));
            else
                Attempt();
        }

        // A crash restarts vCPUs, which then count from zero: what they counted so far is fetched first.
        // Banked counts are added once the request is answered; with only a journal write failure, only if the request
        // spent it (it wrote, so the VM stopped): a request that wrote nothing leaves its vCPUs counting on.
        _bankedOnlyForWrite = writeFailure && !crashVm && crashVcpu < 0;
        if (crashVm || writeFailure)
            BankThen(Enumerable.Range(0, _spec.VcpusPerVm), Go);
        else if (crashVcpu >= 0)
            BankThen([crashVcpu], Go);
        else
            Go();
    }

    /// <summary>One copy of the request in flight, to be answered to this kernel.</summary>
    private void Attempt()
    {
        if (!_inFlightChanges)
        {
            _vms.Tell(_inFlight);
            return;
        }

        var number = _inFlightNumber;
        _vms.Ask<object>(_inFlight!, ResendAfter).PipeTo(Self, success: reply => new ChaosReply(number, reply), failure: _ => new ChaosNoReply(number));
    }

    /// <summary>Handles the chaos path's own messages; false for any other message.</summary>
    private bool ReceiveChaos(object message)
    {
        switch (message)
        {
            case ChaosReply reply:
                if (reply.Request == _inFlightNumber && _inFlight is not null)
                {
                    _inFlight = null;
                    // Answered: a journal fault the request did not spend (it wrote nothing) must not hit a later one,
                    // whose vCPU counts were not banked.
                    var journal = JournalFaults.Get(Context.System);
                    var unspent = journal.Take(VmActor.PersistenceIdFor(_vmId), JournalFault.WriteFailure) is not null;
                    journal.Take(VmActor.PersistenceIdFor(_vmId), JournalFault.WriteStall);
                    if (!(unspent && _bankedOnlyForWrite))
                    {
                        foreach (var counts in _banked)
                            _totals.Add(counts);
                    }

                    _banked.Clear();
                    OnReceive(reply.Reply);
                }

                return true; // else: a late answer to a copy of a request already answered
            case ChaosNoReply none:
                if (none.Request == _inFlightNumber && _inFlight is not null && !_gaveUp)
                    Attempt(); // the same request, same id; ReplyTimeout bounds the resends
                return true;
            case SendNow now:
                if (now.Request == _inFlightNumber && _inFlight is not null && !_gaveUp)
                    Attempt();
                return true;
            case VcpuCounts counts when _banking > 0:
                _banked.Add(counts);
                if (--_banking == 0)
                {
                    var then = _afterBanking!;
                    _afterBanking = null;
                    then();
                }

                return true;
            default:
                return false;
        }
    }

    private void BankThen(IEnumerable<int> vcpus, Action then)
    {
        _afterBanking = then;
        foreach (var vcpu in vcpus)
        {
            _banking++;
            _vms.Tell(new GetVcpuCounts(_vmId, vcpu));
        }
    }

    /// <summary>Delivers the reordered copies due by request <paramref name="number"/> (their answers go nowhere).</summary>
    private void DeliverLate(ulong number)
    {
        for (var i = _late.Count - 1; i >= 0; i--)
        {
            if (_late[i].Due > number)
                continue;
            _vms.Tell(_late[i].Message, ActorRefs.Nobody);
            _late.RemoveAt(i);
        }
    }

    /// <summary>The answer to copy of request <paramref name="Request"/>.</summary>
    private sealed record ChaosReply(ulong Request, object Reply);

    /// <summary>No answer to a copy of request <paramref name="Request"/> within <see cref="ResendAfter"/>.</summary>
    private sealed record ChaosNoReply(ulong Request);

    /// <summary>Request <paramref name="Request"/>'s delay is over: send it.</summary>
    private sealed record SendNow(ulong Request);
}
