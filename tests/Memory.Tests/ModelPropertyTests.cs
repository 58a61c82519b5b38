using CsCheck;
using HekiActors.Memory.Reference;

namespace HekiActors.Memory.Tests;

public class ModelPropertyTests
{
    private const ulong Top = ulong.MaxValue; // exclusive end of the gfn space
    private const ulong LastGfn = ulong.MaxValue - 1;
    private const ulong Rwx = HekiAttributes.DefaultPermissions;
    private const long Sequences = 1000;

    public enum OpKind
    {
        PermissionsSet,
        PermissionsGet,
        HostSet,
        RawSet,
        GetAttributes,
        RangeHas,
        CloneCommit,
    }

    /// <summary>One generated call. A/B are start/end (or gfn, or address/size); Value and Extra the attribute arguments.</summary>
    public sealed class Op
    {
        public required OpKind Kind { get; init; }
        public ulong A { get; init; }
        public ulong B { get; init; }
        public ulong Value { get; init; }
        public ulong Extra { get; init; }
        public bool Flag { get; init; }
        public Op[] Sub { get; init; } = [];

        public override string ToString() => Kind switch
        {
            OpKind.PermissionsSet => $"PermissionsSet({A:x}, {B:x}, {Value:x})",
            OpKind.PermissionsGet => $"PermissionsGet({A:x})",
            OpKind.HostSet => $"SetMemoryAttributes(address {A:x}, size {B:x}, attributes {Value:x}, flags {Extra:x})",
            OpKind.RawSet => $"SetAttributes({A:x}, {B:x}, {Value:x}, mask {Extra:x})",
            OpKind.GetAttributes => $"GetAttributes({A:x})",
            OpKind.RangeHas => $"RangeHas({A:x}, {B:x}, {Value:x}, matchAll {Flag})",
            _ => $"Clone {{ {string.Join("; ", Sub.Select(s => s.ToString()))} }} {(Flag ? "commit" : "discard")}",
        };
    }

    public sealed record Scenario(string Place, ulong Base, ulong Span, Op[] Ops)
    {
        public override string ToString() =>
            $"{Place} base {Base:x} span {Span}:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", Ops.Select(o => o.ToString()))}";
    }

    /// <summary>What the generated sequences exercised, so the test fails if generation degenerates.</summary>
    private sealed class Coverage
    {
        public readonly long[] Kinds = new long[Enum.GetValues<OpKind>().Length];
        public long Sequences;
        public long TopSequences;
        public long EPerm;
        public long PermissionsEinval;
        public long PermissionsOkChanged;
        public long PermissionsOkUnchanged;
        public long SetAtTopEnd;
        public long HostOk;
        public long HostEinval;
        public long RangeHasZeroTrue;
        public long RangeHasZeroFalse;
        public long Commits;
        public long Discards;
        public long NonEmptyFinalRuns;

        public void Add(ref long counter) => Interlocked.Increment(ref counter);
    }

    // ---- generators ------------------------------------------------------------------------------------

    private static Gen<ulong> Offset(ulong span) => Gen.Frequency<ulong>(
        (6, Gen.ULong[0, Math.Min(span, 31)]),
        (3, Gen.ULong[0, span]),
        (1, Gen.OneOf(0UL, span - 1, span)));

    /// <summary>Offsets of a range inside [0, span]: mostly start &lt; end, sometimes empty or inverted.</summary>
    private static Gen<(ulong Lo, ulong Hi)> Range(ulong span) =>
        Gen.Select(Offset(span), Offset(span), Gen.Int[0, 19], (a, b, k) =>
        {
            var lo = Math.Min(a, b);
            var hi = Math.Max(a, b);
            if (k == 0)
                return (lo, lo);
            if (k == 1)
                return (hi, lo);
            if (lo == hi)
            {
                if (hi < span)
                    hi++;
                else
                    lo--;
            }

            return (lo, hi);
        });

    private static readonly Gen<ulong> HekiAttr = Gen.Frequency<ulong>(
        (12, Gen.ULong[0, 7]),
        (3, Gen.ULong[8, 15]),
        (1, Gen.ULong[16, 255]),
        (1, Gen.ULong));

    private static readonly Gen<ulong> RawAttributes = Gen.Frequency<ulong>(
        (4, Gen.ULong[0, 255]),
        (1, Gen.ULong));

    private static readonly Gen<ulong> RawMask = Gen.Frequency<ulong>(
        (3, Gen.Const(0xF0UL)),
        (2, Gen.Const(0x08UL)),
        (1, Gen.Const(0xF8UL)),
        (2, Gen.ULong[0, 255]),
        (1, Gen.Const(ulong.MaxValue)),
        (1, Gen.ULong));

    private static readonly Gen<ulong> RangeHasAttrs = Gen.Frequency<ulong>(
        (3, Gen.Const(0UL)),
        (3, Gen.OneOf(0x80UL, 0x10UL, 0x30UL, 0x70UL, 0x08UL, 0x18UL)),
        (1, Gen.ULong[1, 255]),
        (1, Gen.ULong));

    private static readonly Gen<ulong> HostAttributes = Gen.Frequency<ulong>(
        (6, Gen.Const(HekiAttributes.KvmPrivate)),
        (3, Gen.Const(0UL)),
        (1, Gen.OneOf(0x10UL, 0x80UL, 0x18UL, 1UL, 1UL << 63)));

    private static Gen<Op> OpGen(ulong baseGfn, ulong span, bool allowClone)
    {
        var gfn = Offset(span).Select(o => baseGfn + Math.Min(o, span - 1));

        var permissionsSet = Gen.Select(Range(span), HekiAttr, (r, attr) =>
            new Op { Kind = OpKind.PermissionsSet, A = baseGfn + r.Lo, B = baseGfn + r.Hi, Value = attr });
        var permissionsGet = gfn.Select(g => new Op { Kind = OpKind.PermissionsGet, A = g });
        var getAttributes = gfn.Select(g => new Op { Kind = OpKind.GetAttributes, A = g });
        var rawSet = Gen.Select(Range(span), RawAttributes, RawMask, (r, attributes, mask) =>
            new Op { Kind = OpKind.RawSet, A = baseGfn + r.Lo, B = baseGfn + r.Hi, Value = attributes, Extra = mask });
        var rangeHas = Gen.Select(Range(span), RangeHasAttrs, Gen.Bool, (r, attrs, all) =>
            new Op { Kind = OpKind.RangeHas, A = baseGfn + r.Lo, B = baseGfn + r.Hi, Value = attrs, Flag = all });
        var hostSet = Gen.Select(Range(span), HostAttributes, Gen.Int[0, 15], Gen.ULong[1, 4095], (r, attributes, k, m) =>
        {
            // Byte address of the range's first gfn (mod 2^64 above the host-addressable space, like any u64 request).
            var address = (baseGfn + r.Lo) << VmMemoryAttributes.PageShift;
            var size = (r.Hi > r.Lo ? r.Hi - r.Lo : 1) << VmMemoryAttributes.PageShift;
            ulong flags = 0;
            switch (k)
            {
                case 0: size = 0; break;
                case 1: address += m; break;
                case 2: size += m; break;
                case 3:
                    address = 0UL - ((r.Lo + 1) << VmMemoryAttributes.PageShift);
                    size = (r.Hi + 1) << VmMemoryAttributes.PageShift;
                    break;
                case 4: flags = m; break;
            }

            return new Op { Kind = OpKind.HostSet, A = address, B = size, Value = attributes, Extra = flags };
        });

        var choices = new List<(int, IGen<Op>)>
        {
            (5, permissionsSet),
            (3, permissionsGet),
            (2, hostSet),
            (3, rawSet),
            (2, getAttributes),
            (3, rangeHas),
        };
        if (allowClone)
        {
            var clone = Gen.Select(OpGen(baseGfn, span, allowClone: false).Array[0, 6], Gen.Bool, (sub, commit) =>
                new Op { Kind = OpKind.CloneCommit, Sub = sub, Flag = commit });
            choices.Add((1, clone));
        }

        return Gen.Frequency(choices.ToArray());
    }

    private static readonly Gen<(string Place, ulong Base, ulong Span)> Place = Gen.Frequency<(string, ulong, ulong)>(
        (4, Gen.OneOf(24UL, 200UL, 4095UL).Select(s => ("low", 0UL, s))),
        // base + span == 2^64-1: the last range ends at the end of the gfn space (span 4095: base 2^64-4096).
        (4, Gen.OneOf(24UL, 200UL, 4095UL).Select(s => ("top", ulong.MaxValue - s, s))),
        // host calls reach these gfns with unwrapped byte addresses, so host and guest calls interact up to 2^52-1.
        (1, Gen.OneOf(24UL, 4095UL).Select(s => ("host-top", (1UL << 52) - 1 - s, s))),
        (1, Gen.ULong[1, 1UL << 62].Select(b => ("mid", b, 200UL))));

    private static readonly Gen<Scenario> Scenarios = Place.SelectMany(p =>
        OpGen(p.Base, p.Span, allowClone: true).Array[1, 60].Select(ops => new Scenario(p.Place, p.Base, p.Span, ops)));

    // ---- running a sequence against both models --------------------------------------------------------

    private static ReferenceVmMemory CopyOf(ReferenceVmMemory reference)
    {
        var copy = new ReferenceVmMemory(reference.Profile, reference.PrivateMemory);
        foreach (var run in reference.Runs())
            copy.SetAttributes(run.Start, run.End, run.Word, ulong.MaxValue);
        Assert.Equal(reference.Runs().ToList(), copy.Runs().ToList());
        return copy;
    }

    private static void Apply(Op op, VmMemoryAttributes vm, ref ReferenceVmMemory reference, Coverage coverage)
    {
        Interlocked.Increment(ref coverage.Kinds[(int)op.Kind]);
        switch (op.Kind)
        {
            case OpKind.PermissionsSet:
            {
                var expected = reference.PermissionsSet(op.A, op.B, op.Value, out var expectedChanged);
                var actual = vm.PermissionsSet(op.A, op.B, op.Value, out var actualChanged);
                Assert.Equal(expected, actual);
                Assert.Equal(expectedChanged, actualChanged);
                if (actual == Errno.EPERM)
                    coverage.Add(ref coverage.EPerm);
                else if (actual == Errno.EINVAL)
                    coverage.Add(ref coverage.PermissionsEinval);
                else if (actualChanged.IsEmpty)
                    coverage.Add(ref coverage.PermissionsOkUnchanged);
                else
                    coverage.Add(ref coverage.PermissionsOkChanged);
                if (actual == Errno.Ok && op.B == Top)
                    coverage.Add(ref coverage.SetAtTopEnd);
                break;
            }

            case OpKind.PermissionsGet:
                Assert.Equal(reference.PermissionsGet(op.A), vm.PermissionsGet(op.A));
                break;
            case OpKind.HostSet:
            {
                var expected = reference.SetMemoryAttributes(op.A, op.B, op.Value, op.Extra, out var expectedChanged);
                var actual = vm.SetMemoryAttributes(op.A, op.B, op.Value, op.Extra, out var actualChanged);
                Assert.Equal(expected, actual);
                Assert.Equal(expectedChanged, actualChanged);
                if (actual == Errno.Ok)
                    coverage.Add(ref coverage.HostOk);
                else
                    coverage.Add(ref coverage.HostEinval);
                break;
            }

            case OpKind.RawSet:
                Assert.Equal(reference.SetAttributes(op.A, op.B, op.Value, op.Extra), vm.SetAttributes(op.A, op.B, op.Value, op.Extra));
                break;
            case OpKind.GetAttributes:
                Assert.Equal(reference.GetAttributes(op.A), vm.GetAttributes(op.A));
                break;
            case OpKind.RangeHas:
            {
                var expected = reference.RangeHas(op.A, op.B, op.Value, op.Flag);
                Assert.Equal(expected, vm.RangeHas(op.A, op.B, op.Value, op.Flag));
                if (op.Value == 0)
                    coverage.Add(ref expected ? ref coverage.RangeHasZeroTrue : ref coverage.RangeHasZeroFalse);
                break;
            }

            case OpKind.CloneCommit:
            {
                var before = vm.Store.Runs.ToList();
                var scratch = vm.Clone();
                var referenceScratch = CopyOf(reference);
                foreach (var sub in op.Sub)
                    Apply(sub, scratch, ref referenceScratch, coverage);
                Assert.Equal(referenceScratch.Runs().ToList(), scratch.Store.Runs.ToList());
                // Whatever the scratch copy did, the VM itself is untouched until the commit.
                Assert.Equal(before, vm.Store.Runs.ToList());
                if (op.Flag)
                {
                    vm.CommitFrom(scratch);
                    reference = referenceScratch;
                    coverage.Add(ref coverage.Commits);
                }
                else
                {
                    coverage.Add(ref coverage.Discards);
                }

                break;
            }
        }
    }

    private static void RunScenario(Scenario scenario, HekiProfile profile, bool privateMemory, Coverage coverage)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory);
        var reference = new ReferenceVmMemory(profile, privateMemory);
        foreach (var op in scenario.Ops)
            Apply(op, vm, ref reference, coverage);
        var expectedRuns = reference.Runs().ToList();
        Assert.Equal(expectedRuns, vm.Store.Runs.ToList());
        Assert.Equal(expectedRuns.Count, vm.Store.RunCount);
        coverage.Add(ref coverage.Sequences);
        if (scenario.Place == "top")
            coverage.Add(ref coverage.TopSequences);
        if (expectedRuns.Count > 0)
            coverage.Add(ref coverage.NonEmptyFinalRuns);
    }

    [Theory]
    [InlineData(HekiProfile.Hardened, false)]
    [InlineData(HekiProfile.Hardened, true)]
    [InlineData(HekiProfile.HekiV2, false)]
    [InlineData(HekiProfile.HekiV2, true)]
    public void Random_operation_sequences_match_the_per_gfn_reference(HekiProfile profile, bool privateMemory)
    {
        var coverage = new Coverage();
        Scenarios.Sample(scenario => RunScenario(scenario, profile, privateMemory, coverage), iter: Sequences);

        Assert.True(coverage.Sequences >= Sequences, $"only {coverage.Sequences} sequences ran");
        foreach (var kind in Enum.GetValues<OpKind>())
            Assert.True(coverage.Kinds[(int)kind] >= 100, $"{kind} generated only {coverage.Kinds[(int)kind]} times");
        Assert.True(coverage.TopSequences >= 100, $"only {coverage.TopSequences} sequences at the top of the gfn space");
        Assert.True(coverage.SetAtTopEnd >= 10, $"only {coverage.SetAtTopEnd} successful sets ending at 2^64-1");
        Assert.True(coverage.EPerm >= 100, $"only {coverage.EPerm} -EPERM results");
        Assert.True(coverage.PermissionsEinval >= 100, $"only {coverage.PermissionsEinval} -EINVAL results");
        Assert.True(coverage.PermissionsOkChanged >= 100, $"only {coverage.PermissionsOkChanged} changing sets");
        Assert.True(coverage.PermissionsOkUnchanged >= 10, $"only {coverage.PermissionsOkUnchanged} no-op sets");
        Assert.True(coverage.HostEinval >= 50, $"only {coverage.HostEinval} refused host calls");
        Assert.True(coverage.HostOk >= 50, $"only {coverage.HostOk} accepted host calls");
        Assert.True(coverage.RangeHasZeroTrue >= 10 && coverage.RangeHasZeroFalse >= 10,
            $"range_has(attrs 0): {coverage.RangeHasZeroTrue} true, {coverage.RangeHasZeroFalse} false");
        Assert.True(coverage.Commits >= 10 && coverage.Discards >= 10, $"{coverage.Commits} commits, {coverage.Discards} discards");
        Assert.True(coverage.NonEmptyFinalRuns >= Sequences / 2, $"only {coverage.NonEmptyFinalRuns} sequences ended with runs");
    }

    // ---- edge values ------------------------------------------------------------------------------------

    public static TheoryData<HekiProfile> Profiles => new() { HekiProfile.Hardened, HekiProfile.HekiV2 };

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Gfn_zero_and_the_last_gfn_behave_like_the_reference(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile, privateMemory: true);
        var reference = new ReferenceVmMemory(profile, privateMemory: true);

        void Both(ulong start, ulong end, ulong attr)
        {
            var expected = reference.PermissionsSet(start, end, attr, out var expectedChanged);
            Assert.Equal(expected, vm.PermissionsSet(start, end, attr, out var actualChanged));
            Assert.Equal(expectedChanged, actualChanged);
        }

        Both(0, 1, HekiAttributes.Exec);
        Both(LastGfn, Top, HekiAttributes.Read | HekiAttributes.Immutable);
        Both(LastGfn - 3, Top, Rwx);
        Both(LastGfn - 3, LastGfn, HekiAttributes.Read);
        Both(Top - 1, Top - 1, HekiAttributes.Read);
        Both(Top, LastGfn, HekiAttributes.Read);
        Both(0, 0, HekiAttributes.Read);
        Both(1, 0, HekiAttributes.Read);
        foreach (var gfn in new[] { 0UL, 1UL, LastGfn - 4, LastGfn - 3, LastGfn - 1, LastGfn })
        {
            Assert.Equal(reference.GetAttributes(gfn), vm.GetAttributes(gfn));
            Assert.Equal(reference.PermissionsGet(gfn), vm.PermissionsGet(gfn));
        }

        foreach (var (start, end) in new[] { (0UL, 1UL), (0UL, 0UL), (5UL, 0UL), (LastGfn, Top), (LastGfn - 8, Top), (Top, Top), (Top, 0UL) })
        {
            foreach (var attrs in new[] { 0UL, 0x10UL, 0x40UL, 0x80UL, 0x90UL })
            {
                Assert.Equal(reference.RangeHas(start, end, attrs, true), vm.RangeHas(start, end, attrs, true));
                Assert.Equal(reference.RangeHas(start, end, attrs, false), vm.RangeHas(start, end, attrs, false));
            }
        }

        Assert.Equal(reference.Runs().ToList(), vm.Store.Runs.ToList());
        Assert.Equal(reference.Runs().Count(), vm.Store.RunCount);
        Assert.Equal(HekiAttributes.Read | HekiAttributes.Immutable, vm.PermissionsGet(LastGfn));
        Assert.Equal(HekiAttributes.Exec, vm.PermissionsGet(0));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void The_whole_gfn_space_can_be_set_in_one_call(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, Top, HekiAttributes.Read | HekiAttributes.Exec, out var changed));
        Assert.Equal(new GfnRange(0, Top), changed);
        Assert.Equal([new AttributeRun(0, Top, 0x50)], vm.Store.Runs.ToList());
        Assert.Equal(0x50UL, vm.GetAttributes(0));
        Assert.Equal(0x50UL, vm.GetAttributes(1UL << 40));
        Assert.Equal(0x50UL, vm.GetAttributes(LastGfn));
        Assert.True(vm.RangeHas(0, Top, 0x50, matchAll: true));
        Assert.False(vm.RangeHas(0, Top, 0, matchAll: true));
        Assert.False(vm.RangeHas(0, Top, 0x20, matchAll: false));

        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, Top, 0, out var cleared));
        Assert.Equal(new GfnRange(0, Top), cleared);
        Assert.Empty(vm.Store.Runs);
        Assert.True(vm.RangeHas(0, Top, 0, matchAll: false));
        Assert.Equal(Rwx, vm.PermissionsGet(LastGfn));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void One_immutable_page_anywhere_refuses_a_whole_space_set(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        Assert.Equal(Errno.Ok, vm.PermissionsSet(1UL << 50, (1UL << 50) + 1, HekiAttributes.Immutable, out _));
        Assert.Equal(Errno.EPERM, vm.PermissionsSet(0, Top, Rwx, out var changed));
        Assert.True(changed.IsEmpty);
        Assert.Equal([new AttributeRun(1UL << 50, (1UL << 50) + 1, 0x80)], vm.Store.Runs.ToList());
        Assert.True(vm.RangeHas(0, Top, 0x80, matchAll: false));
        Assert.False(vm.RangeHas(0, Top, 0x80, matchAll: true));
        Assert.Equal(Errno.Ok, vm.PermissionsSet(0, 1UL << 50, Rwx, out var below));
        Assert.Equal(new GfnRange(0, 1UL << 50), below);
        Assert.Equal(Errno.Ok, vm.PermissionsSet((1UL << 50) + 1, Top, Rwx, out var above));
        Assert.Equal(new GfnRange((1UL << 50) + 1, Top), above);
        Assert.Equal(3, vm.Store.RunCount);
    }

    [Fact]
    public void A_whole_space_downgrade_is_ignored_in_heki_v2_and_applied_in_hardened()
    {
        var v2 = new VmMemoryAttributes(HekiProfile.HekiV2);
        var hardened = new VmMemoryAttributes(HekiProfile.Hardened);
        foreach (var vm in new[] { v2, hardened })
            Assert.Equal(Errno.Ok, vm.PermissionsSet(0, Top, Rwx, out _));

        Assert.Equal(Errno.Ok, v2.PermissionsSet(0, Top, HekiAttributes.Read, out var v2Changed));
        Assert.True(v2Changed.IsEmpty);
        Assert.Equal(Rwx, v2.PermissionsGet(LastGfn));

        Assert.Equal(Errno.Ok, hardened.PermissionsSet(0, Top, HekiAttributes.Read, out var hardenedChanged));
        Assert.Equal(new GfnRange(0, Top), hardenedChanged);
        Assert.Equal(HekiAttributes.Read, hardened.PermissionsGet(LastGfn));
    }

    [Fact]
    public void A_whole_space_raw_set_with_a_full_mask_replaces_every_word()
    {
        var store = new AttributeStore();
        store.SetAttributes(10, 20, 0x18, ulong.MaxValue);
        store.SetAttributes(LastGfn, Top, 0x80, 0xF0);
        Assert.Equal(new GfnRange(0, Top), store.SetAttributes(0, Top, 0xDEAD, ulong.MaxValue));
        Assert.Equal([new AttributeRun(0, Top, 0xDEAD)], store.Runs.ToList());
        var clone = store.Clone();
        Assert.Equal(new GfnRange(0, Top), clone.SetAttributes(0, Top, 0, ulong.MaxValue));
        Assert.Empty(clone.Runs);
        Assert.Equal(0xDEADUL, store.GetAttributes(LastGfn));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Empty_and_inverted_ranges_behave_like_the_reference(HekiProfile profile)
    {
        var vm = new VmMemoryAttributes(profile);
        var reference = new ReferenceVmMemory(profile);
        Assert.Equal(reference.PermissionsSet(5, 10, 3, out _), vm.PermissionsSet(5, 10, 3, out _));
        foreach (var (start, end) in new[] { (7UL, 7UL), (9UL, 6UL), (0UL, 0UL), (Top, Top), (LastGfn, 5UL), (20UL, 3UL) })
        {
            Assert.Equal(reference.SetAttributes(start, end, 0x70, 0xF0), vm.SetAttributes(start, end, 0x70, 0xF0));
            Assert.Equal(reference.PermissionsSet(start, end, 1, out var expectedChanged), vm.PermissionsSet(start, end, 1, out var actualChanged));
            Assert.Equal(expectedChanged, actualChanged);
            foreach (var attrs in new[] { 0UL, 0x10UL, 0x30UL })
            {
                foreach (var all in new[] { true, false })
                    Assert.Equal(reference.RangeHas(start, end, attrs, all), vm.RangeHas(start, end, attrs, all));
            }
        }

        Assert.Equal(reference.Runs().ToList(), vm.Store.Runs.ToList());
        Assert.Equal(reference.Runs().Count(), vm.Store.RunCount);
        Assert.Equal([new AttributeRun(5, 10, 0x30)], vm.Store.Runs.ToList());
    }
}
