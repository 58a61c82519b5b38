using HekiActors.Memory;
using HekiActors.Vcpu.Enforcement;
using HekiActors.Simulation.Guest;
using HekiActors.Vcpu.Workload;
using HekiActors.Memory.Hypercalls;
using HekiActors.Protocol;

namespace HekiActors.Simulation.Tests;

/// <summary>The attacker model: plans against the layout, and judges outcomes from replies.</summary>
public sealed class GuestAttackerModelTests
{
    private static readonly KernelLayout Layout = KernelLayout.For(64 * VmConfig.PagesPerMiB);

    private static OperationResult Pf => OperationResult.Access(AccessResult.PageFault);
    private static OperationResult Ok => OperationResult.Access(AccessResult.Ok);

    [Theory]
    [InlineData(AttackKind.WriteKernelText)]
    [InlineData(AttackKind.WriteRodata)]
    [InlineData(AttackKind.ExecuteData)]
    public void Guest_single_access_attacks_are_blocked_by_a_fault_and_succeed_when_it_completes(AttackKind technique)
    {
        var attacker = new AttackerModel(new GuestKernel(Layout, 2, WorkloadMix.Default), HekiProfile.Hardened, mbec: true);
        var random = new GuestRandom(1);
        var plan = attacker.Plan(technique, ref random);

        Assert.Equal(AttackVerdict.Blocked, attacker.Judge(plan, [Pf]));
        var success = attacker.Judge(plan, [Ok]);
        Assert.True(success.Succeeded);
        Assert.False(string.IsNullOrEmpty(success.Why));
    }

    [Fact]
    public void Guest_downgrade_abuse_names_the_heki_v2_defect()
    {
        var attacker = new AttackerModel(new GuestKernel(Layout, 2, WorkloadMix.Default), HekiProfile.HekiV2, mbec: true);
        var random = new GuestRandom(1);
        var plan = attacker.Plan(AttackKind.RelaxMutableThenAbuse, ref random);

        Assert.Equal(3, Assert.IsType<ProtectOperation>(plan.Probes[0]).Cpl);
        Assert.Equal(AttackVerdict.Blocked, attacker.Judge(plan, [OperationResult.Return(Errno.EPERM), Pf]));
        var verdict = attacker.Judge(plan, [OperationResult.Return(Errno.EPERM), Ok]);
        Assert.True(verdict.Succeeded);
        Assert.Contains("heki-v2 drops pure downgrades", verdict.Why);
    }

    [Fact]
    public void Guest_relax_immutable_and_clear_pinned_cr_are_judged_from_return_values()
    {
        var attacker = new AttackerModel(new GuestKernel(Layout, 2, WorkloadMix.Default), HekiProfile.Hardened, mbec: true);
        var random = new GuestRandom(3);
        var relax = attacker.Plan(AttackKind.RelaxImmutable, ref random);
        var cr = attacker.Plan(AttackKind.ClearPinnedCr, ref random);

        Assert.Equal(AttackVerdict.Blocked, attacker.Judge(relax, [OperationResult.Return(Errno.EPERM), Pf]));
        Assert.True(attacker.Judge(relax, [OperationResult.Return(0), Pf]).Succeeded);
        Assert.Equal(AttackVerdict.Blocked, attacker.Judge(cr, [OperationResult.CrWrite(false)]));
        Assert.True(attacker.Judge(cr, [OperationResult.CrWrite(true)]).Succeeded);
        Assert.Throws<ArgumentException>(() => attacker.Judge(cr, []));
    }

    /// <summary>The attacks against the pure rules (no actors): hardened blocks all; heki-v2 lets the downgrade abuse through.</summary>
    [Theory]
    [InlineData(HekiProfile.Hardened, true, new AttackKind[0])]
    [InlineData(HekiProfile.HekiV2, true, new[] { AttackKind.RelaxMutableThenAbuse })]
    [InlineData(HekiProfile.Hardened, false, new[] { AttackKind.ExecuteData })]
    public void Guest_attacks_against_the_rules_succeed_only_through_known_defects(HekiProfile profile, bool mbec, AttackKind[] expected)
    {
        var kernel = new GuestKernel(Layout, 2, WorkloadMix.Default);
        var memory = new VmMemoryAttributes(profile);
        var pins = CrPins.None;
        foreach (var op in kernel.BootOperations())
        {
            if (op is ProtectOperation protect)
                Assert.Equal(0, ProtectMemory.Apply(memory, protect.ListPages, mbec).Ret);
            else if (op is LockCrOperation lockCr)
                Assert.Equal(0, CrPinning.LockCrUpdate(lockCr.Cr, lockCr.Pin, 0, pins, out pins));
        }

        foreach (var ev in kernel.EventsForRound(0))
            kernel.Completed(ev, ProtectMemory.Apply(memory, ev.Operation.ListPages, mbec).Ret);
        var attacker = new AttackerModel(kernel, profile, mbec);
        var random = new GuestRandom(11);
        var succeeded = new List<AttackKind>();
        foreach (var technique in Enum.GetValues<AttackKind>())
        {
            for (var n = 0; n < 20; n++)
            {
                var plan = attacker.Plan(technique, ref random);
                var results = plan.Probes.Select(probe => probe switch
                {
                    AccessOperation a => OperationResult.Access(AccessRules.IsPermitted(memory.PermissionsGet(a.Gpa >> 12), a.Kind, a.Cpl, mbec, profile)
                        ? AccessResult.Ok : AccessResult.PageFault),
                    ProtectOperation p => OperationResult.Return(p.Cpl != 0 ? Errno.EPERM : ProtectMemory.Apply(memory, p.ListPages, mbec).Ret),
                    WriteCrOperation w => OperationResult.CrWrite(CrPinning.CrWriteCheck(w.Cr, w.Value, pins).Allowed),
                    _ => throw new InvalidOperationException(),
                }).ToList();
                if (attacker.Judge(plan, results).Succeeded)
                    succeeded.Add(technique);
            }
        }

        Assert.Equal(expected, succeeded.Distinct());
        Assert.All(expected, t => Assert.Equal(20, succeeded.Count(s => s == t)));
    }
}
