using System.Text;
using CsCheck;
using HekiActors.Memory.Hypercalls;
using HekiActors.Memory.Vm;

namespace HekiActors.Memory.Tests;

/// <summary>
/// The VM core against its own events: in both profiles, for random command sequences (creates, destroys, protects,
/// host sets, pins, CR writes, including refused and duplicate requests), the state the live decisions built equals
/// the state rebuilt from the events alone, and from a snapshot plus the events after it; Decide never changes the
/// state it reads; and every answer and the resulting store, pins and registers equal those of the kernel
/// functions applied in place, the way the RFC runs them (a model that does not go through events at all).
/// </summary>
public sealed class VmCorePropertyTests
{
    private const long Sequences = 400;
    private const string Vm = "a";

    private static readonly Gen<ulong> Perm = Gen.Frequency<ulong>((10, Gen.ULong[1, 15]), (1, Gen.Const(0UL)), (1, Gen.ULong[16, 255]));

    /// <summary>Gfns 0..40 so ranges overlap, become immutable, and are refused.</summary>
    private static readonly Gen<(ulong Start, ulong End)> Gfns = Gen.Select(Gen.ULong[0, 40], Gen.ULong[0, 12], Gen.Int[0, 15], (start, length, k) =>
        k == 0 ? (start + length, start) : (start, start + length));

    private static readonly Gen<MemoryRange> Range = Gen.Select(Gfns, Perm, Gen.Int[0, 20], (g, perm, k) =>
        new MemoryRange((g.Start << 12) + (k == 0 ? 8UL : 0), g.End << 12, perm));

    private static readonly Gen<MemoryRange[][]> ListPages = Gen.Frequency<MemoryRange[][]>(
        (6, Range.Select(r => new[] { new[] { r } })),
        (3, Range.Array[0, 4].Array[1, 3]),
        (1, Range.Array[170, 172].Select(page => new[] { page })));

    /// <summary>A command builder: given the ids used so far, a command with a fresh id or a resent one.</summary>
    private static readonly Gen<Func<Guid, VmCommand>> Command = Gen.Frequency<Func<Guid, VmCommand>>(
        (2, Gen.Select(Gen.Int[1, 3], Gen.Bool, Gen.Bool, (vcpus, mbec, priv) =>
            (Func<Guid, VmCommand>)(id => new VmCommand.Create(Vm, id, new VmConfig(64, vcpus, mbec, priv, HekiProfile.Hardened))))),
        (1, Gen.Const<Func<Guid, VmCommand>>(id => new VmCommand.Destroy(Vm, id))),
        (10, ListPages.Select(pages => (Func<Guid, VmCommand>)(id => new VmCommand.Protect(Vm, id, pages)))),
        (4, Gen.Select(Gfns, Perm, (g, attr) => (Func<Guid, VmCommand>)(id => new VmCommand.SetPermissions(Vm, id, g.Start, g.End, attr)))),
        (2, Gen.Select(Gfns, Gen.OneOf(0UL, HekiAttributes.KvmPrivate, 0x10UL), Gen.OneOf(0UL, 0UL, 0UL, 1UL), (g, attributes, flags) =>
            (Func<Guid, VmCommand>)(id => new VmCommand.SetMemoryAttributes(Vm, id, g.Start << 12, (g.End - g.Start) << 12, attributes, flags)))),
        (3, Gen.Select(Gen.OneOf(0UL, 4UL, 3UL), Gen.OneOf(CrPinning.Cr0Wp, CrPinning.Cr4Smep, CrPinning.Cr4Smap | CrPinning.Cr4Smep, 0UL, 1UL << 40),
            Gen.OneOf(0UL, 0UL, 1UL), (cr, pin, flags) => (Func<Guid, VmCommand>)(id => new VmCommand.LockCr(Vm, id, cr, pin, flags)))),
        (5, Gen.Select(Gen.Int[-1, 3], Gen.OneOf(0, 4, 3, 16), Gen.OneOf(0UL, CrPinning.Cr0Wp | 1, CrPinning.Cr4Smep, 0xABCUL), (vcpu, cr, value) =>
            (Func<Guid, VmCommand>)(id => new VmCommand.WriteCr(Vm, id, vcpu, cr, value)))));

    private static readonly Gen<(HekiProfile Profile, (Func<Guid, VmCommand> Make, int Resend)[] Steps, int Cut)> Scenarios =
        Gen.Select(Gen.OneOf(HekiProfile.Hardened, HekiProfile.HekiV2), Gen.Select(Command, Gen.Int[0, 5]).Array[1, 50], Gen.Int[0, 1000],
            (profile, steps, cut) => (profile, steps, cut));

    [Fact]
    public void Vm_state_from_live_decisions_equals_the_state_rebuilt_from_its_events_in_both_profiles()
    {
        var eventCounts = new long[3]; // sequences with events, refused decisions, duplicates answered from the record
        Scenarios.Sample(scenario =>
        {
            var (profile, steps, cut) = scenario;
            var state = VmState.Initial();
            var events = new List<IVmEvent>();
            var sent = new List<VmCommand>();
            var snapshotAt = -1;
            VmSnapshot? snapshot = null;
            var log = new StringBuilder();
            var direct = new InPlaceVm();
            foreach (var (make, resend) in steps)
            {
                // One step in six resends an earlier request (a duplicate: same id, same request), the others are new.
                var command = resend == 0 && sent.Count > 0 ? sent[cut % sent.Count] : WithProfile(make(Guid.NewGuid()), profile);
                sent.Add(command);
                var id = command.RequestId;
                log.AppendLine(command.ToString());
                var before = Describe(state.ToSnapshot());

                var decision = VmCore.Decide(state, command);

                Assert.Equal(before, Describe(state.ToSnapshot()));
                var expected = direct.Run(command, recorded: state.IsAlive && state.TryGetAnswer(id, out _));
                Assert.True(expected == Answer(decision.Outcome), $"{command}: core answered {decision.Outcome}, in place {expected}{Environment.NewLine}{log}");
                if (decision.Outcome is VmOutcome.Rejected)
                    Interlocked.Increment(ref eventCounts[1]);
                if (decision.Events.Count == 0 && state.IsAlive && state.TryGetAnswer(id, out _))
                    Interlocked.Increment(ref eventCounts[2]);
                foreach (var ev in decision.Events)
                {
                    state = VmCore.Evolve(state, ev);
                    events.Add(ev);
                    if (events.Count == cut % 40 + 1)
                    {
                        snapshotAt = events.Count;
                        snapshot = state.ToSnapshot();
                    }
                }
            }

            if (events.Count > 0)
                Interlocked.Increment(ref eventCounts[0]);
            var live = Describe(state.ToSnapshot());
            Assert.True(direct.Describe() == Contents(state.ToSnapshot()), $"state differs from the in-place model after:{Environment.NewLine}{log}");

            VmState? rebuilt = null;
            foreach (var ev in events)
                rebuilt = VmCore.Evolve(rebuilt, ev);
            Assert.True(live == Describe((rebuilt ?? VmState.Initial()).ToSnapshot()), $"rebuilt from events differs after:{Environment.NewLine}{log}");

            if (snapshot is not null)
            {
                var restored = VmState.FromSnapshot(snapshot);
                foreach (var ev in events.Skip(snapshotAt))
                    restored = VmCore.Evolve(restored, ev);
                Assert.True(live == Describe(restored.ToSnapshot()), $"snapshot at {snapshotAt} + tail differs after:{Environment.NewLine}{log}");
            }
        }, iter: Sequences);

        Assert.True(eventCounts[0] > Sequences / 2, "too few sequences changed anything");
        Assert.True(eventCounts[1] > 0, "no refused request was generated");
        Assert.True(eventCounts[2] > 0, "no duplicate was answered from the record");
    }

    [Fact]
    public void Vm_state_handed_to_evolve_is_spent()
    {
        var state = VmCore.Evolve(null, new VmConfiguredEvent(new VmConfig(64, 1, true, false, HekiProfile.Hardened), Guid.NewGuid()));
        var next = VmCore.Evolve(state, new PermissionsChangedEvent(Guid.NewGuid(), [new AppliedRange(1, 2, HekiAttributes.Read)], 0));

        Assert.Throws<InvalidOperationException>(() => state.PermissionsGet(1));
        Assert.Throws<InvalidOperationException>(() => VmCore.Decide(state, new VmCommand.SetPermissions(Vm, Guid.NewGuid(), 1, 2, 7)));
        Assert.Equal(HekiAttributes.Read, next.PermissionsGet(1));
    }

    [Fact]
    public void Vm_resent_destroy_is_answered_and_never_destroys_a_later_incarnation()
    {
        var config = new VmConfig(64, 1, true, false, HekiProfile.Hardened);
        var destroyId = Guid.NewGuid();
        var state = Apply(VmState.Initial(), new VmCommand.Create(Vm, Guid.NewGuid(), config));
        state = Apply(state, new VmCommand.Destroy(Vm, destroyId));
        state = Apply(state, new VmCommand.Create(Vm, Guid.NewGuid(), config));

        var resent = VmCore.Decide(state, new VmCommand.Destroy(Vm, destroyId));

        Assert.Empty(resent.Events);
        Assert.IsType<VmOutcome.Destroyed>(resent.Outcome);
        Assert.True(state.IsAlive);
    }

    [Fact]
    public void Vm_decisions_on_an_absent_vm_are_refused_with_a_code()
    {
        var decision = VmCore.Decide(null, new VmCommand.LockCr(Vm, Guid.NewGuid(), 0, CrPinning.Cr0Wp, 0));

        var rejected = Assert.IsType<VmOutcome.Rejected>(decision.Outcome);
        Assert.Equal(RejectionCode.NoSuchVm, rejected.Code);
        Assert.Empty(decision.Events);
    }

    private static VmState Apply(VmState state, VmCommand command)
    {
        foreach (var ev in VmCore.Decide(state, command).Events)
            state = VmCore.Evolve(state, ev);
        return state;
    }

    private static VmCommand WithProfile(VmCommand command, HekiProfile profile) =>
        command is VmCommand.Create create ? create with { Config = create.Config with { Profile = profile } } : command;

    private static string Answer(VmOutcome outcome) => outcome switch
    {
        VmOutcome.Returned r => $"ret {r.Ret} faults {r.HostIntegrityFaults}",
        VmOutcome.CrWrite w => $"cr{w.Cr} written {w.Written} value {w.Value:x}",
        VmOutcome.Rejected r => $"rejected {r.Code}",
        _ => outcome.GetType().Name,
    };

    /// <summary>The store, pins and registers of a snapshot (what the in-place model holds).</summary>
    private static string Contents(VmSnapshot s) => s.Config is null ? "absent" : string.Join(" | ",
        string.Join(",", s.Runs.Select(r => $"{r.Start:x}-{r.End:x}:{r.Word:x}")),
        $"{s.Cr0Pins:x}/{s.Cr4Pins:x}",
        string.Join(";", s.ControlRegisters.Select(crs => string.Join(",", crs))));

    /// <summary>
    /// The kernel functions applied in place, one request at a time, as the RFC does (and as the VM did before it
    /// was event-sourced): the oracle for answers and state. A request recorded as answered is answered, not run.
    /// </summary>
    private sealed class InPlaceVm
    {
        private VmConfig? _config;
        private VmMemoryAttributes? _memory;
        private CrPins _pins;
        private ulong[][] _crs = [];
        private readonly Dictionary<Guid, long> _recorded = new();
        private readonly Dictionary<Guid, int> _recordedFaults = new();
        private readonly HashSet<Guid> _destroyedBy = new();
        private Guid _createdBy;

        public string Run(VmCommand command, bool recorded)
        {
            switch (command)
            {
                case VmCommand.Create create:
                    if (_config is not null)
                        return create.RequestId == _createdBy ? nameof(VmOutcome.Created) : $"rejected {RejectionCode.VmExists}";
                    (_config, _memory, _pins, _createdBy) = (create.Config, new VmMemoryAttributes(create.Config.Profile, create.Config.PrivateMemory), CrPins.None, create.RequestId);
                    _crs = Enumerable.Range(0, create.Config.VcpuCount).Select(_ => new ulong[CrPinning.ControlRegisterCount]).ToArray();
                    _recorded.Clear();
                    _recordedFaults.Clear();
                    return nameof(VmOutcome.Created);
                case VmCommand.Destroy destroy:
                    if (_destroyedBy.Contains(destroy.RequestId))
                        return nameof(VmOutcome.Destroyed);
                    if (_config is null)
                        return $"rejected {RejectionCode.NoSuchVm}";
                    _destroyedBy.Add(destroy.RequestId);
                    (_config, _memory, _crs) = (null, null, []);
                    return nameof(VmOutcome.Destroyed);
            }

            if (_config is null)
                return $"rejected {RejectionCode.NoSuchVm}";
            Assert.Equal(recorded, _recorded.ContainsKey(command.RequestId));
            var memory = _memory!;
            switch (command)
            {
                case VmCommand.Protect protect:
                {
                    // A recorded list is answered as it was first, host-integrity faults included.
                    if (_recorded.TryGetValue(protect.RequestId, out var ret))
                        return $"ret {ret} faults {_recordedFaults.GetValueOrDefault(protect.RequestId)}";
                    var outcome = ProtectMemory.Apply(memory, protect.ListPages, _config.Mbec);
                    if (outcome.Applied.Count > 0 || outcome.Ret == 0)
                    {
                        _recorded[protect.RequestId] = outcome.Ret;
                        _recordedFaults[protect.RequestId] = outcome.HostIntegrityFaults;
                    }

                    return $"ret {outcome.Ret} faults {outcome.HostIntegrityFaults}";
                }
                case VmCommand.SetPermissions set:
                {
                    if (_recorded.TryGetValue(set.RequestId, out var ret))
                        return $"ret {ret} faults 0";
                    var result = memory.PermissionsSet(set.Start, set.End, set.Attr, out _);
                    if (result == 0)
                        _recorded[set.RequestId] = 0;
                    return $"ret {result} faults 0";
                }
                case VmCommand.SetMemoryAttributes set:
                {
                    if (_recorded.TryGetValue(set.RequestId, out var ret))
                        return $"ret {ret} faults 0";
                    var result = memory.SetMemoryAttributes(set.Address, set.Size, set.Attributes, set.Flags, out _);
                    if (result == 0)
                        _recorded[set.RequestId] = 0;
                    return $"ret {result} faults 0";
                }
                case VmCommand.LockCr lockCr:
                {
                    if (_recorded.TryGetValue(lockCr.RequestId, out var ret))
                        return $"ret {ret} faults 0";
                    var result = CrPinning.LockCrUpdate(lockCr.Cr, lockCr.Pin, lockCr.Flags, _pins, out var updated);
                    if (result == 0 && updated != _pins)
                        _recorded[lockCr.RequestId] = 0;
                    _pins = updated;
                    return $"ret {result} faults 0";
                }
                case VmCommand.WriteCr write:
                    if (write.Vcpu < 0 || write.Vcpu >= _crs.Length)
                        return $"rejected {RejectionCode.NoSuchVcpu}";
                    if (write.Cr is < 0 or >= CrPinning.ControlRegisterCount)
                        return $"rejected {RejectionCode.NoSuchControlRegister}";
                    if (_recorded.ContainsKey(write.RequestId))
                        return $"cr{write.Cr} written True value {_crs[write.Vcpu][write.Cr]:x}";
                    if (!CrPinning.CrWriteCheck(write.Cr, write.Value, _pins).Allowed)
                        return $"cr{write.Cr} written False value {_crs[write.Vcpu][write.Cr]:x}";
                    _crs[write.Vcpu][write.Cr] = write.Value;
                    _recorded[write.RequestId] = 1;
                    return $"cr{write.Cr} written True value {write.Value:x}";
                default:
                    throw new ArgumentOutOfRangeException(nameof(command), command, null);
            }
        }

        public string Describe() => _config is null ? "absent" : string.Join(" | ",
            string.Join(",", _memory!.Store.Runs.ToArray().Select(r => $"{r.Start:x}-{r.End:x}:{r.Word:x}")),
            $"{_pins.Cr0:x}/{_pins.Cr4:x}",
            string.Join(";", _crs.Select(crs => string.Join(",", crs))));
    }

    /// <summary>Everything a snapshot holds, as text (arrays compared by content).</summary>
    private static string Describe(VmSnapshot s) => string.Join(" | ",
        s.Config?.ToString() ?? "absent",
        string.Join(",", s.Runs.Select(r => $"{r.Start:x}-{r.End:x}:{r.Word:x}")),
        $"{s.Cr0Pins:x}/{s.Cr4Pins:x}",
        string.Join(";", s.ControlRegisters.Select(crs => string.Join(",", crs))),
        string.Join(",", s.Answered.Select(a => $"{a.RequestId}={a.Result}")),
        s.CreatedBy,
        string.Join(",", s.RecentDestroys));
}
