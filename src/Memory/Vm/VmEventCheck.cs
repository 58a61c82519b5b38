using System.Globalization;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Vm;

/// <summary>
/// What a stored event or snapshot must hold before it becomes model values: only what the model's own decisions can
/// produce (a defined profile, 1..<see cref="VmConfig.MaxVcpus"/> vCPUs, whole MiB up to <see cref="VmConfig.MaxMemoryMb"/>,
/// heki permission bits READ|WRITE|EXEC|IMMUTABLE, CR0/CR4 pins, vCPU and CR indexes in range). A journal is input
/// like any other: a value outside these is a corrupt journal, said by the reader, never an exception deep in the model.
/// </summary>
public static class VmEventCheck
{
    /// <summary>The highest gfn end: 2^64 bytes of guest physical address space.</summary>
    private const ulong MaxGfnEnd = 1UL << (64 - VmMemoryAttributes.PageShift);

    /// <summary>The problem with <paramref name="ev"/> following a VM configured as <paramref name="config"/> (null: not configured), naming the field; null when it is well-formed.</summary>
    public static string? Problem(IVmEvent ev, VmConfig? config)
    {
        ArgumentNullException.ThrowIfNull(ev);
        switch (ev)
        {
            case VmConfiguredEvent configured:
                return Problem(configured.Config, "Config");
            case VmDestroyedEvent:
                return null;
        }

        if (config is null)
            return null; // VmCore.Evolve says the event does not follow the state
        switch (ev)
        {
            case PermissionsChangedEvent permissions:
                if (permissions.Changes is null)
                    return "field Changes is missing";
                for (var i = 0; i < permissions.Changes.Length; i++)
                {
                    var range = permissions.Changes[i];
                    if (HekiAttributes.HasInvalidBits(range.Permissions))
                        return $"field Changes[{i}].Permissions is {Hex(range.Permissions)}: bits beyond READ|WRITE|EXEC|IMMUTABLE (0x{HekiAttributes.Prot:x})";
                    if (range.EndGfn <= range.StartGfn || range.EndGfn > MaxGfnEnd)
                        return $"field Changes[{i}] is gfns {Hex(range.StartGfn)}-{Hex(range.EndGfn)}: not a range of 1..2^52 gfns";
                }

                return null;
            case MemoryAttributesChangedEvent attributes:
                var allowed = config.PrivateMemory ? HekiAttributes.KvmPrivate : 0;
                if ((attributes.Attributes & ~allowed) != 0)
                    return $"field Attributes is {Hex(attributes.Attributes)}: bits this VM cannot set (0x{allowed:x})";
                if (attributes.Size == 0 || attributes.Address + attributes.Size < attributes.Address
                    || ((attributes.Address | attributes.Size) & (VmMemoryAttributes.PageSize - 1)) != 0)
                    return $"fields Address {Hex(attributes.Address)} and Size {Hex(attributes.Size)} are not a page-aligned range";
                return null;
            case CrPinnedEvent pinned:
                return pinned.Cr switch
                {
                    0 when (pinned.Pin & ~CrPinning.HostCr0) == 0 => null,
                    4 when (pinned.Pin & ~CrPinning.Cr4Pinnable) == 0 => null,
                    0 or 4 => $"field Pin is {Hex(pinned.Pin)}: bits CR{pinned.Cr} cannot pin",
                    _ => $"field Cr is {pinned.Cr}: only CR0 and CR4 are pinned",
                };
            case CrWrittenEvent written:
                if (written.Vcpu < 0 || written.Vcpu >= config.VcpuCount)
                    return $"field Vcpu is {written.Vcpu}: the VM has vCPUs 0..{config.VcpuCount - 1}";
                if (written.Cr < 0 || written.Cr >= CrPinning.ControlRegisterCount)
                    return $"field Cr is {written.Cr}: control registers are 0..{CrPinning.ControlRegisterCount - 1}";
                return null;
            default:
                return $"unknown VM event {ev.GetType().Name}";
        }
    }

    /// <summary>The problem with <paramref name="snapshot"/>, naming the field; null when it is well-formed.</summary>
    public static string? Problem(VmSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Config is null)
            return null;
        if (Problem(snapshot.Config, "Config") is { } config)
            return config;
        if (snapshot.Runs is null || snapshot.ControlRegisters is null || snapshot.Answered is null)
            return $"field {(snapshot.Runs is null ? "Runs" : snapshot.ControlRegisters is null ? "ControlRegisters" : "Answered")} is missing";
        for (var i = 0; i < snapshot.Runs.Length; i++)
        {
            var run = snapshot.Runs[i];
            if (run.End <= run.Start || run.End > MaxGfnEnd)
                return $"field Runs[{i}] is gfns {Hex(run.Start)}-{Hex(run.End)}: not a range of 1..2^52 gfns";
            if ((run.Word & ~(HekiAttributes.KvmHekiMask | HekiAttributes.KvmPrivate)) != 0)
                return $"field Runs[{i}].Word is {Hex(run.Word)}: bits beyond the heki and private attributes";
        }

        if ((snapshot.Cr0Pins & ~CrPinning.HostCr0) != 0)
            return $"field Cr0Pins is {Hex(snapshot.Cr0Pins)}: bits CR0 cannot pin";
        if ((snapshot.Cr4Pins & ~CrPinning.Cr4Pinnable) != 0)
            return $"field Cr4Pins is {Hex(snapshot.Cr4Pins)}: bits CR4 cannot pin";
        if (snapshot.ControlRegisters.Length > snapshot.Config.VcpuCount || snapshot.ControlRegisters.Any(r => r is null || r.Length > CrPinning.ControlRegisterCount))
            return $"field ControlRegisters is not at most {snapshot.Config.VcpuCount} vCPUs of {CrPinning.ControlRegisterCount} registers";
        return null;
    }

    private static string? Problem(VmConfig? config, string field)
    {
        if (config is null)
            return $"field {field} is missing";
        if (!Enum.IsDefined(config.Profile))
            return $"field {field}.Profile is {(int)config.Profile}: not a profile (0 {HekiProfiles.HardenedName}, 1 {HekiProfiles.HekiV2Name})";
        if (config.VcpuCount is < 1 or > VmConfig.MaxVcpus)
            return $"field {field}.VcpuCount is {config.VcpuCount}: outside 1..{VmConfig.MaxVcpus}";
        if (config.MemoryPages == 0 || config.MemoryPages % VmConfig.PagesPerMiB != 0 || config.MemoryPages / VmConfig.PagesPerMiB > VmConfig.MaxMemoryMb)
            return $"field {field}.MemoryPages is {config.MemoryPages.ToString(CultureInfo.InvariantCulture)}: not a whole number of MiB in 1..2^44 MiB";
        return null;
    }

    private static string Hex(ulong value) => $"0x{value:x}";
}
