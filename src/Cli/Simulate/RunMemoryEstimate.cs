using System.Globalization;
using HekiActors.Simulation;
using HekiActors.Memory;
using HekiActors.Simulation.Guest;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// How much memory a simulation run needs, estimated from its shape before anything boots, so a run that cannot
/// fit is refused with a message instead of swapping, thrashing the GC for minutes or being killed by the kernel.
/// </summary>
/// <remarks>
/// <para>bytes ≈ <see cref="BaseBytes"/> + ranges × <see cref="SharedPerRangeBytes"/> + VMs × (<see cref="PerVmBytes"/>
/// + vCPUs × <see cref="PerVcpuBytes"/> + ranges × <see cref="PerRangeBytes"/>), where ranges is the number of protected ranges in the guest kernel's layout
/// (<see cref="BootRanges"/>: about one per 16 MiB of guest memory, because a BPF JIT page every 4 MiB of heap splits
/// it). A range costs in the VM's attribute store, the journal's boot event, the workload's region lists and the
/// translation caches.</para>
/// <para>The constants are peak resident set sizes (<c>/usr/bin/time -f %M</c>) of Release runs of
/// <c>heki simulate --accesses-per-vcpu 20000 --rounds 2</c> at shapes from 1 × 1 × 16 MiB to 8,000 VMs, 32 vCPUs
/// and 19 TiB guests (docs/reliability.md, "Limits", lists them), rounded up so every measured run lies below its
/// estimate. What a run adds while it runs (journal events of kernel changes and attacks) is small beside this:
/// 5 million attacks on 50 VMs added 28 MB.</para>
/// </remarks>
public sealed record RunMemoryEstimate(double Bytes, long Ranges, long Gen0BudgetBytes = 0)
{
    /// <summary>The runtime, Akka, the host actors and the empty report: a 1-VM run peaks at 76 MB.</summary>
    public const double BaseBytes = 80 * MiB;

    /// <summary>A VM's actor, state, guest kernel actor, counters and histograms, beside its vCPUs and ranges (measured 62 KiB).</summary>
    public const double PerVmBytes = 64 * KiB;

    /// <summary>A vCPU actor with its translation cache, workload buffers and latency histograms (measured 69–77 KiB).</summary>
    public const double PerVcpuBytes = 80 * KiB;

    /// <summary>One protected range of one VM (measured 440–580 bytes at 8,000 to 1,250,000 ranges per VM).</summary>
    public const double PerRangeBytes = 600;

    /// <summary>One protected range once per run: the layout's sections and the boot list all VMs of one size share (measured 115 bytes).</summary>
    public const double SharedPerRangeBytes = 200;

    private const double KiB = 1024;
    private const double MiB = 1024 * KiB;
    private const double GiB = 1024 * MiB;

    /// <summary>The estimate for one run of <paramref name="spec"/> (profiles run one after the other, so one run is the peak).</summary>
    /// <param name="spec">The run.</param>
    /// <param name="gen0BudgetBytes">The gen0 budget the process runs with (<see cref="GcBudget.InEffectBytes"/>; 0: the
    /// runtime's own, which the constants include): counted in full, as a run long enough to fill it holds that much more
    /// before its first collection (heki's 128 MiB: the default run peaks at 173 MiB instead of 119 MiB).</param>
    public static RunMemoryEstimate For(SimulationSpec spec, long gen0BudgetBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return For(spec.Vms, spec.VcpusPerVm, spec.MemoryMbPerVm, gen0BudgetBytes);
    }

    /// <summary>The estimate for <paramref name="vms"/> VMs of one shape (a chaos run's VMs, which boot as a simulation's do).</summary>
    public static RunMemoryEstimate For(int vms, int vcpusPerVm, ulong memoryMbPerVm, long gen0BudgetBytes = 0)
    {
        var ranges = BootRanges(memoryMbPerVm);
        // In doubles: 10^7 VMs × 2^40 ranges × 600 bytes would overflow a long; an estimate needs no exact bytes.
        var perVm = PerVmBytes + vcpusPerVm * PerVcpuBytes + ranges * PerRangeBytes;
        return new RunMemoryEstimate(BaseBytes + gen0BudgetBytes + ranges * SharedPerRangeBytes + (double)vms * perVm, ranges, gen0BudgetBytes);
    }

    /// <summary>
    /// About how many ranges the kernel layout of a <paramref name="memoryMb"/> MiB guest protects at boot: two per
    /// BPF JIT page (the page, and the heap after it) plus the fixed sections. O(1), without building the layout
    /// (which for a 2^44 MiB guest would not fit in memory).
    /// </summary>
    public static long BootRanges(ulong memoryMb)
    {
        var pages = VmConfig.PagesOf(Math.Min(memoryMb, VmConfig.MaxMemoryMb));
        return (long)(2 * (pages / 8 / KernelLayout.JitStride)) + 8;
    }

    /// <summary>A <see cref="UsageException"/> when the estimate exceeds <paramref name="availableBytes"/>; nothing otherwise.</summary>
    public void Check(SimulationSpec spec, long availableBytes)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Problem(spec.Vms, spec.VcpusPerVm, availableBytes) is { } problem)
            throw new UsageException(problem);
    }

    /// <summary>Why the run does not fit in <paramref name="availableBytes"/> (one line, with the estimate's terms), or null.</summary>
    public string? Problem(int vms, int vcpusPerVm, long availableBytes)
    {
        if (Bytes <= availableBytes)
        {
            return null;
        }

        var ranges = Ranges.ToString(CultureInfo.InvariantCulture);

        return $"the run needs about {Format(Bytes)} of memory but {Format(availableBytes)} is available: "
            + $"{Format(BaseBytes)} + {(Gen0BudgetBytes > 0 ? $"{Format(Gen0BudgetBytes)} gen0 budget + " : "")}{ranges} protected ranges × {SharedPerRangeBytes:0} B + "
            + $"{ReportFormat.Count(vms, "VM")} × ({Format(PerVmBytes)} + "
            + $"{ReportFormat.Count(vcpusPerVm, "vCPU")} × {Format(PerVcpuBytes)} + "
            + $"{ranges} ranges × {PerRangeBytes:0} B); "
            + "use fewer VMs or vCPUs, or less memory per VM (docs/reliability.md, \"Limits\")";
    }

    /// <summary>The memory this process may use now: what the kernel can give without swapping (MemAvailable), capped
    /// by the runtime's own limit (physical memory, a container's cgroup limit, or DOTNET_GCHeapHardLimit).</summary>
    public static long AvailableBytes()
    {
        var limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return MemAvailable() is { } available ? Math.Min(limit, available) : limit;
    }

    /// <summary>MemAvailable from /proc/meminfo in bytes; null where there is none (not Linux, or unreadable).</summary>
    private static long? MemAvailable()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                // "MemAvailable:   23234852 kB"
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan("MemAvailable:".Length).Trim().TrimEnd("kB").Trim(), NumberStyles.None,
                        CultureInfo.InvariantCulture, out var kb))
                {
                    return kb * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc (not Linux): the runtime's figure alone.
        }

        return null;
    }

    /// <summary>Bytes as a person reads them: 154 MiB, 2.4 GiB, 1,100 GiB.</summary>
    public static string Format(double bytes) => bytes switch
    {
        >= 10 * GiB => (bytes / GiB).ToString("#,0", CultureInfo.InvariantCulture) + " GiB",
        >= GiB => (bytes / GiB).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= MiB => (bytes / MiB).ToString("0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / KiB).ToString("0", CultureInfo.InvariantCulture) + " KiB",
    };
}
