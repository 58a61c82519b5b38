using HekiActors.Memory;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// The chaos oracle: an independent model (the plain per-gfn reference store, <see cref="Memory.Reference.ReferenceVmMemory"/>)
/// fed with every acknowledged operation in the order the model acknowledged it, checking the five invariants
/// on every result (docs/chaos.md). Under heki-v2 it finds the RFC's defects (dropped downgrade, half-applied list,
/// host-integrity fault) and labels them so; any other finding is a bug. Pure and single-threaded: the caller
/// serializes observations (per VM in acknowledgement order; VMs are independent).
/// </summary>
/// <remarks>
/// An operation's result is compared with what the guest was told is in force (the intent store: acknowledged
/// changes applied as asked). A difference that the profile's own rules explain through a known defect is that
/// defect; any other difference is a violation of the invariant it breaks. A request that ended in an error
/// (no answer, an unknown VM) is not acknowledged and teaches the oracle nothing.
/// </remarks>
public sealed class InvariantOracle
{
    /// <summary>Findings kept in full (and the first of each kind); beyond this only the counts grow (a broken model must not grow memory without bound).</summary>
    public const int MaxFindingsKept = 1000;

    private readonly Dictionary<string, OracleVm> _vms = new(StringComparer.Ordinal);
    private readonly List<Finding> _findings = [];
    private readonly Dictionary<(Invariant, Defect), long> _findingCounts = new();
    private readonly long[] _checks = new long[6];
    private readonly WarningLimitCheck _warnings;
    private long _operation = -1;

    public InvariantOracle(HekiProfile profile)
    {
        Profile = profile;
        _warnings = new WarningLimitCheck(profile);
    }

    public HekiProfile Profile { get; }

    /// <summary>Findings in the order found (at most <see cref="MaxFindingsKept"/>, and the first of each kind).</summary>
    public IReadOnlyList<Finding> Findings => _findings;

    /// <summary>How many findings of each kind, including those not kept.</summary>
    public IReadOnlyDictionary<(Invariant Invariant, Defect Defect), long> FindingCounts => _findingCounts;

    /// <summary>Findings that are not RFC defects.</summary>
    public long Violations => _findingCounts.Where(kv => kv.Key.Item2 == Defect.None).Sum(kv => kv.Value);

    /// <summary>How many times invariant <paramref name="invariant"/> was checked.</summary>
    public long Checks(Invariant invariant) => _checks[(int)invariant];

    /// <summary>Operations observed so far.</summary>
    public long Operations => _operation + 1;

    /// <summary>
    /// One acknowledged operation: <paramref name="request"/> and the result the model gave it. Returns the
    /// operation's index (what a <see cref="Finding.Operation"/> refers to).
    /// </summary>
    /// <param name="refusal">When the model refused the request (<paramref name="result"/> an error), the refusal's code:
    /// "no such VM" for a VM whose create was acknowledged, or "exists" for one whose destroy was, is a lost change.</param>
    public long Observe(ReplayRequest request, ReplayResult result, RejectionCode? refusal = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(result);
        var op = ++_operation;
        if (result is ErrorResult)
        {
            if (refusal is { } code)
                ObserveRefusal(request, code, op);
            return op;
        }
        if (request is CreateVmRequest create)
        {
            // An answer to a create of a VM that exists is a duplicate's: the VM keeps its state.
            if (result is OkResult && !_vms.ContainsKey(create.Vm))
            {
                _vms[create.Vm] = new OracleVm(create.Vm, VmConfig.PagesOf(create.MemoryMb), create.Vcpus, create.Mbec, create.PrivateMemory, Profile);
            }

            return op;
        }

        if (!_vms.TryGetValue(request.Vm, out var vm))
            return op;
        switch (request, result)
        {
            case (DestroyVmRequest, OkResult):
                _vms.Remove(request.Vm);
                break;
            case (ProtectRequest r, RetResult ret):
                ObserveProtect(vm, r, ret, op);
                break;
            case (SetPermissionsRequest r, RetResult ret):
                Returned(vm, op, "set_permissions", vm.Rfc.RangeHas(r.Start, r.End, HekiAttributes.KvmHekiImmutable, matchAll: false),
                    vm.SetPermissions(r.Start, r.End, r.Attr), ret.Ret);
                break;
            case (SetMemoryAttributesRequest r, RetResult ret):
                Returned(vm, op, "set_memory_attributes", false, vm.SetMemoryAttributes(r.Address, r.Size, r.Attributes, r.Flags), ret.Ret);
                break;
            case (GetPermissionsRequest r, AttrResult attr):
                ObservePermissions(vm, op, r.Gfn, attr.Attr);
                break;
            case (GetMemoryAttributesRequest r, AttributesResult attributes):
                ObserveWord(vm, op, r.Gfn, attributes.Attributes);
                break;
            case (AccessRequest r, OutcomeResult outcome):
                ObserveAccess(vm, op, r, outcome.Result);
                break;
            case (LockCrRequest r, RetResult ret) when ret.Ret == 0 && r.Flags == 0:
                vm.Pinned(r.Cr, r.Pin);
                break;
            case (WriteCrRequest r, OutcomeResult outcome):
                ObserveCrWrite(vm, op, r, outcome.Result == "ok");
                break;
            case (ReadCrRequest r, ValueResult value) when r.Vcpu >= 0 && r.Vcpu < vm.Vcpus && r.Cr is >= 0 and < 16:
                Count(Invariant.AcknowledgedChange);
                if (value.Value != vm.ControlRegisters[r.Vcpu, r.Cr])
                    Found(Invariant.AcknowledgedChange, Defect.None, op, vm.Id,
                        $"CR{r.Cr} of vCPU {r.Vcpu} reads 0x{value.Value:x}; the last acknowledged write left 0x{vm.ControlRegisters[r.Vcpu, r.Cr]:x}");
                break;
        }

        return op;
    }

    /// <summary>
    /// A rate-limited warning's decision (printed or suppressed) at <paramref name="timestamp"/> of the clock the
    /// rate limiter read (<paramref name="frequency"/> ticks per second): invariant 5.
    /// </summary>
    public void WarningDecided(string vmId, WarningSite site, bool printed, long timestamp, long frequency)
    {
        Count(Invariant.WarningRateLimit);
        if (_warnings.Decided(vmId, site, printed, timestamp, frequency) is { } problem)
            Found(Invariant.WarningRateLimit, Defect.None, Math.Max(_operation, 0), Profile == HekiProfile.HekiV2 ? null : vmId, problem);
    }

    /// <summary>
    /// Two copies of one request (one id) were both answered: a request applied once has one answer, so two different
    /// ones break invariant 3 (the oracle then follows the first: <see cref="Observe"/>).
    /// </summary>
    public void AnsweredTwice(ReplayRequest request, ReplayResult first, ReplayResult second)
    {
        ArgumentNullException.ThrowIfNull(request);
        Count(Invariant.AcknowledgedChange);
        if (!Equals(first, second))
            Found(Invariant.AcknowledgedChange, Defect.None, _operation + 1, request.Vm,
                $"two copies of one {Describe(request)} were answered {first} and {second}");
    }

    private void ObserveRefusal(ReplayRequest request, RejectionCode code, long op)
    {
        var known = _vms.ContainsKey(request.Vm);
        Count(Invariant.AcknowledgedChange);
        if (code == RejectionCode.NoSuchVm && known)
            Found(Invariant.AcknowledgedChange, Defect.None, op, request.Vm,
                $"{Describe(request)} was refused: no such VM; its create was acknowledged and no destroy");
        else if (code == RejectionCode.VmExists && request is CreateVmRequest && !known)
            Found(Invariant.AcknowledgedChange, Defect.None, op, request.Vm,
                $"{Describe(request)} was refused: the VM exists; its destroy was acknowledged");
    }

    /// <summary>
    /// Requests whose answers show whether every acknowledged change of VM <paramref name="vmId"/> is in force (after a
    /// restart): the permissions of every gfn in [<paramref name="startGfn"/>, <paramref name="endGfn"/>), every
    /// vCPU's CR0 and CR4, and for each pinned register a write of its value without the pinned bits (refused while
    /// the pins hold). Empty when the VM does not exist.
    /// </summary>
    public IReadOnlyList<ReplayRequest> InForceProbes(string vmId, ulong startGfn, ulong endGfn)
    {
        if (!_vms.TryGetValue(vmId, out var vm))
            return [];
        var probes = new List<ReplayRequest>();
        for (var gfn = startGfn; gfn < Math.Min(endGfn, vm.MemoryPages); gfn++)
            probes.Add(new GetPermissionsRequest(vmId, gfn));
        foreach (var cr in (int[])[0, 4])
        {
            for (var vcpu = 0; vcpu < vm.Vcpus; vcpu++)
                probes.Add(new ReadCrRequest(vmId, vcpu, cr));
            if (vm.PinsOf(cr) is var pins and not 0)
                probes.Add(new WriteCrRequest(vmId, 0, cr, vm.ControlRegisters[0, cr] & ~pins));
        }

        return probes;
    }

    private static string Describe(ReplayRequest request) => request.GetType().Name.Replace("Request", "", StringComparison.Ordinal);

    /// <summary>The warning supervisor dropped <paramref name="vmId"/>'s limiters (hardened: per VM incarnation, §8).</summary>
    public void WarningLimitsReset(string vmId) => _warnings.Reset(vmId);

    private void ObserveProtect(OracleVm vm, ProtectRequest r, RetResult ret, long op)
    {
        if (r.Cpl != 0)
        {
            Returned(vm, op, "protect at CPL " + r.Cpl, false, -1, ret.Ret);
            return;
        }

        var touchesImmutable = r.ListPages.SelectMany(p => p)
            .Any(range => range.Epa > range.Pa && (range.Epa - range.Pa) / 4096 < (1UL << 26)
                          && vm.Rfc.RangeHas(range.Pa >> 12, range.Epa >> 12, HekiAttributes.KvmHekiImmutable, matchAll: false));
        var (expected, faults) = vm.Protect(r.ListPages);
        Returned(vm, op, "protect", touchesImmutable, expected, ret.Ret);
        if (r.ListPages.Sum(p => p.Length) > 1)
            Count(Invariant.FailedBatchChangesNothing);
        if (ret.HostIntegrityFaults > 0 || faults > 0)
        {
            Found(Invariant.FailedBatchChangesNothing, Profile == HekiProfile.HekiV2 ? Defect.HostIntegrityFault : Defect.None, op, vm.Id,
                $"a list page with more than 169 ranges was read past its end ({ret.HostIntegrityFaults} page(s) reported, {faults} expected)");
        }
    }

    /// <summary>A return value against the profile's: an acknowledged change to an immutable page breaks invariant 2, any other difference 3.</summary>
    private void Returned(OracleVm vm, long op, string what, bool touchesImmutable, long expected, long actual)
    {
        Count(Invariant.AcknowledgedChange);
        if (touchesImmutable)
            Count(Invariant.ImmutableOrPinned);
        if (expected == actual)
            return;
        var invariant = touchesImmutable && actual == 0 ? Invariant.ImmutableOrPinned : Invariant.AcknowledgedChange;
        Found(invariant, Defect.None, op, vm.Id, $"{what} returned {actual}; the reference returns {expected}");
    }

    private void ObservePermissions(OracleVm vm, long op, ulong gfn, ulong observed)
    {
        var word = vm.Intent.GetAttributes(gfn);
        Count(Invariant.AcknowledgedChange);
        var intended = vm.PermissionsOf(word);
        if (observed == intended)
            return;
        Differs(vm, op, gfn, observed == vm.PermissionsOf(vm.Rfc.GetAttributes(gfn)), word,
            $"gfn 0x{gfn:x} has permissions {observed}; acknowledged: {intended}");
    }

    private void ObserveWord(OracleVm vm, long op, ulong gfn, ulong observed)
    {
        var word = vm.Intent.GetAttributes(gfn);
        Count(Invariant.AcknowledgedChange);
        if (observed == word)
            return;
        Differs(vm, op, gfn, observed == vm.Rfc.GetAttributes(gfn), word, $"gfn 0x{gfn:x} has the word 0x{observed:x}; acknowledged: 0x{word:x}");
    }

    private void ObserveAccess(OracleVm vm, long op, AccessRequest r, string result)
    {
        var gfn = r.Gpa >> 12;
        Count(Invariant.ForbiddenAccess);
        if (gfn >= vm.MemoryPages)
        {
            if (result != "mmio")
                Found(Invariant.AcknowledgedChange, Defect.None, op, vm.Id, $"an access at 0x{r.Gpa:x}, outside guest memory, gave {result}, not mmio");
            return;
        }

        var word = vm.Intent.GetAttributes(gfn);
        var allowed = vm.Allows(vm.PermissionsOf(word), r.Kind, r.Cpl);
        var rfcAllowed = vm.Allows(vm.PermissionsOf(vm.Rfc.GetAttributes(gfn)), r.Kind, r.Cpl);
        var completed = result == "ok";
        if (completed == allowed)
            return;
        var what = $"a {r.Kind.Name()} at CPL {r.Cpl} of gfn 0x{gfn:x} gave {result}; the acknowledged permissions {vm.PermissionsOf(word)} "
                   + (allowed ? "allow it" : "forbid it");
        if (completed)
        {
            var defect = rfcAllowed ? vm.TaintAt(gfn) : Defect.None;
            var invariant = defect == Defect.HalfAppliedBatch || (defect == Defect.None && vm.InFailedBatch(gfn))
                ? Invariant.FailedBatchChangesNothing
                : Invariant.ForbiddenAccess;
            Found(invariant, defect, op, vm.Id, what);
        }
        else
        {
            Differs(vm, op, gfn, !rfcAllowed, word, what);
        }
    }

    /// <summary>An observation that differs from the intent: which invariant, and whether a known defect explains it.</summary>
    private void Differs(OracleVm vm, long op, ulong gfn, bool rfcAgrees, ulong intendedWord, string what)
    {
        var defect = rfcAgrees ? vm.TaintAt(gfn) : Defect.None;
        Invariant invariant;
        if (defect == Defect.HalfAppliedBatch || (defect == Defect.None && vm.InFailedBatch(gfn)))
            invariant = Invariant.FailedBatchChangesNothing;
        else if ((intendedWord & HekiAttributes.KvmHekiImmutable) != 0)
            invariant = Invariant.ImmutableOrPinned;
        else
            invariant = Invariant.AcknowledgedChange;
        if (invariant == Invariant.ImmutableOrPinned)
            Count(Invariant.ImmutableOrPinned);
        Found(invariant, defect, op, vm.Id, what);
    }

    private void ObserveCrWrite(OracleVm vm, long op, WriteCrRequest r, bool written)
    {
        if (r.Vcpu < 0 || r.Vcpu >= vm.Vcpus || r.Cr is < 0 or >= 16)
            return;
        var pins = vm.PinsOf(r.Cr);
        var allowed = (r.Value & pins) == pins;
        if (pins != 0)
            Count(Invariant.ImmutableOrPinned);
        else
            Count(Invariant.AcknowledgedChange);
        if (written && !allowed)
            Found(Invariant.ImmutableOrPinned, Defect.None, op, vm.Id, $"CR{r.Cr} write 0x{r.Value:x} took effect and cleared pinned bits 0x{pins & ~r.Value:x}");
        else if (!written && allowed)
            Found(Invariant.AcknowledgedChange, Defect.None, op, vm.Id, $"CR{r.Cr} write 0x{r.Value:x} was refused; the acknowledged pins 0x{pins:x} allow it");
        if (written)
            vm.ControlRegisters[r.Vcpu, r.Cr] = r.Value;
    }

    private void Count(Invariant invariant) => _checks[(int)invariant]++;

    private void Found(Invariant invariant, Defect defect, long op, string? vm, string detail)
    {
        var count = _findingCounts[(invariant, defect)] = _findingCounts.GetValueOrDefault((invariant, defect)) + 1;
        // The first of each kind is always kept: a bug found after a flood of RFC defects still gets its reproducer.
        if (_findings.Count < MaxFindingsKept || count == 1)
            _findings.Add(new Finding(invariant, defect, op, vm, detail));
    }
}
