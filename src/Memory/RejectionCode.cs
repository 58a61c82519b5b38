namespace HekiActors.Memory;

/// <summary>
/// Why the model refused a request as bad input (nothing changed). Callers branch on the code; the reason text that
/// travels with it is for people and may change.
/// </summary>
public enum RejectionCode : byte
{
    /// <summary>The request names a VM that does not exist (never created, or destroyed).</summary>
    NoSuchVm = 1,

    /// <summary>create_vm for an id in use by another request's VM.</summary>
    VmExists = 2,

    // 3 was VmBusy (a destroy in progress); a VM entity decides a create after its destroy now, so nothing is busy.

    /// <summary>The request names a vCPU the VM does not have.</summary>
    NoSuchVcpu = 4,

    /// <summary>The request names a control register other than CR0..CR15.</summary>
    NoSuchControlRegister = 5,

    /// <summary>A malformed request: an empty VM id, a CPL outside 0..3, an access batch whose arrays disagree, a workload without a spec.</summary>
    InvalidRequest = 6,

    /// <summary>The vCPU is already running a workload.</summary>
    WorkloadRunning = 7,
}

/// <summary>The reason texts of <see cref="RejectionCode"/>s, worded once (replay prints them as errors).</summary>
public static class Rejections
{
    public static string NoSuchVm(string vmId) => $"no VM named '{Printable.Escape(vmId)}'";

    public static string VmExists(string vmId) => $"VM '{Printable.Escape(vmId)}' already exists";

    public static string NoSuchVcpu(string vmId, int vcpu, int vcpus) => $"VM '{Printable.Escape(vmId)}' has no vCPU {vcpu} (it has {vcpus})";

    public static string NoSuchControlRegister(int cr) => $"CR{cr} does not exist (control registers are CR0..CR15)";
}
