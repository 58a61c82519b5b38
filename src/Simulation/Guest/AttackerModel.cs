using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation.Guest;

/// <summary>One attack: its technique and the probes to run in order, on the VM it targets.</summary>
public sealed record AttackPlan(AttackKind Kind, IReadOnlyList<GuestOperation> Probes);

/// <summary>Whether an attack got through, and for a success which rule let it through.</summary>
public readonly record struct AttackVerdict(bool Succeeded, string? Why)
{
    public static readonly AttackVerdict Blocked = new(false, null);
}

/// <summary>
/// An attacker inside one guest, as plain code: plans each technique against the kernel's layout (a kernel
/// write primitive, user-mode hypercalls, CR writes) and judges from the observed replies whether Heki blocked
/// it. Successes name the defect or missing feature that let them through.
/// </summary>
public sealed class AttackerModel
{
    private readonly GuestKernel _kernel;
    private readonly HekiProfile _profile;
    private readonly bool _mbec;

    public AttackerModel(GuestKernel kernel, HekiProfile profile, bool mbec)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        _kernel = kernel;
        _profile = profile;
        _mbec = mbec;
    }

    /// <summary>Plans one attack; random choices (target page, vCPU, register) come from <paramref name="random"/>.</summary>
    public AttackPlan Plan(AttackKind kind, ref GuestRandom random)
    {
        var layout = _kernel.Layout;
        var vcpu = (int)random.NextBelow((ulong)_kernel.Vcpus);
        IReadOnlyList<GuestOperation> probes = kind switch
        {
            // A kernel write primitive aimed at code or constant data.
            AttackKind.WriteKernelText => [new AccessOperation(vcpu, Gpa(PageIn(layout.Text, ref random), ref random), AccessKind.Write, 0)],
            AttackKind.WriteRodata => [new AccessOperation(vcpu, Gpa(PageIn(layout.Rodata, ref random), ref random), AccessKind.Write, 0)],
            // Shellcode planted in the heap, jumped to in kernel mode: only MBEC can make data non-executable.
            AttackKind.ExecuteData => [new AccessOperation(vcpu, Gpa(HeapDataPage(ref random), ref random), AccessKind.Exec, 0)],
            // Ask the host to make a text page writable, then patch it.
            AttackKind.RelaxImmutable => RelaxImmutable(vcpu, ref random),
            // Make a read-only-after-init page writable again (from user mode: the attacker has no kernel
            // hypercall), then overwrite it with the kernel write primitive.
            AttackKind.RelaxMutableThenAbuse => RelaxMutableThenAbuse(vcpu, ref random),
            // Turn off write protection or SMEP/SMAP with a CR write.
            AttackKind.ClearPinnedCr => [ClearPinnedBit(vcpu, ref random)],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown attack kind"),
        };
        return new AttackPlan(kind, probes);
    }

    /// <summary>Decides from the probes' results (one per probe, in order) whether the attack got through.</summary>
    public AttackVerdict Judge(AttackPlan plan, IReadOnlyList<OperationResult> results)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count != plan.Probes.Count)
            throw new ArgumentException($"{plan.Probes.Count} probes but {results.Count} results", nameof(results));
        var last = results[^1];
        switch (plan.Kind)
        {
            case AttackKind.WriteKernelText:
                return last.Completed ? new(true, "a write to immutable kernel text completed") : AttackVerdict.Blocked;
            case AttackKind.WriteRodata:
                return last.Completed ? new(true, "a write to immutable kernel rodata completed") : AttackVerdict.Blocked;
            case AttackKind.ExecuteData:
                if (!last.Completed)
                    return AttackVerdict.Blocked;
                return new(true, _mbec
                    ? "a kernel-mode fetch from a non-executable data page completed"
                    : "no MBEC: the guest cannot clear kernel EXEC (PROTECT_MEMORY forces it on), so data stays executable");
            case AttackKind.RelaxImmutable:
                if (results[0].Completed)
                    return new(true, "PROTECT_MEMORY changed an immutable text page");
                return last.Completed ? new(true, "a write to immutable kernel text completed") : AttackVerdict.Blocked;
            case AttackKind.RelaxMutableThenAbuse:
                if (results[0].Completed)
                    return new(true, "PROTECT_MEMORY from user mode relaxed a kernel page");
                if (!last.Completed)
                    return AttackVerdict.Blocked;
                return new(true, _profile == HekiProfile.HekiV2
                    ? "heki-v2 drops pure downgrades: the kernel's RW→R of this page was silently ignored, so it stayed writable"
                    : "a write to a page the kernel made read-only completed");
            case AttackKind.ClearPinnedCr:
                return last.Completed ? new(true, "a CR write cleared a pinned bit") : AttackVerdict.Blocked;
            default:
                throw new ArgumentOutOfRangeException(nameof(plan), plan.Kind, "unknown attack kind");
        }
    }

    private GuestOperation[] RelaxImmutable(int vcpu, ref GuestRandom random)
    {
        var page = PageIn(_kernel.Layout.Text, ref random);
        var rwx = HekiAttributes.Read | HekiAttributes.Write | HekiAttributes.Exec;
        return
        [
            new ProtectOperation(vcpu, [[new MemoryRange(page << VmMemoryAttributes.PageShift, (page + 1) << VmMemoryAttributes.PageShift, rwx)]], 0),
            new AccessOperation(vcpu, Gpa(page, ref random), AccessKind.Write, 0),
        ];
    }

    private GuestOperation[] RelaxMutableThenAbuse(int vcpu, ref GuestRandom random)
    {
        // Targets a page the kernel already made read-only; before the first downgrade, the first such page.
        var page = _kernel.DowngradeTarget(ref random);
        var rw = HekiAttributes.Read | HekiAttributes.Write;
        return
        [
            new ProtectOperation(vcpu, [[new MemoryRange(page << VmMemoryAttributes.PageShift, (page + 1) << VmMemoryAttributes.PageShift, rw)]], 3),
            new AccessOperation(vcpu, Gpa(page, ref random), AccessKind.Write, 0),
        ];
    }

    private static WriteCrOperation ClearPinnedBit(int vcpu, ref GuestRandom random) => random.NextBelow(3) switch
    {
        0 => new WriteCrOperation(vcpu, 0, GuestKernel.BootCr0 & ~CrPinning.Cr0Wp),
        1 => new WriteCrOperation(vcpu, 4, GuestKernel.BootCr4 & ~CrPinning.Cr4Smep),
        _ => new WriteCrOperation(vcpu, 4, GuestKernel.BootCr4 & ~CrPinning.Cr4Smap),
    };

    private ulong HeapDataPage(ref GuestRandom random)
    {
        // A data page (synthetic: in the heap; a real kernel: its .data/.bss) that is not a JIT page (those are
        // executable on purpose).
        var layout = _kernel.Layout;
        while (true)
        {
            var page = PageIn(layout.ShellcodeTargets, ref random);
            if (!layout.IsJitPage(page))
                return page;
        }
    }

    private static ulong PageIn(GfnRange range, ref GuestRandom random) => range.Start + random.NextBelow(range.Length);

    /// <summary>A page drawn uniformly from all of <paramref name="ranges"/>' pages (one draw, as <see cref="PageIn(GfnRange, ref GuestRandom)"/>).</summary>
    private static ulong PageIn(IReadOnlyList<GfnRange> ranges, ref GuestRandom random)
    {
        var pick = random.NextBelow(ranges.Aggregate(0UL, (n, r) => n + r.Length));
        foreach (var range in ranges)
        {
            if (pick < range.Length)
                return range.Start + pick;
            pick -= range.Length;
        }

        throw new InvalidOperationException("unreachable: the pick is below the total");
    }

    private static ulong Gpa(ulong gfn, ref GuestRandom random) =>
        (gfn << VmMemoryAttributes.PageShift) | (random.NextBelow(VmMemoryAttributes.PageSize / 8) * 8);
}
