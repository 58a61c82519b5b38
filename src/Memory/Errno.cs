namespace HekiActors.Memory;

/// <summary>The negative kernel error codes the model returns (heki-semantics.md §5).</summary>
public static class Errno
{
    public const int Ok = 0;
    public const int EPERM = -1;
    public const int E2BIG = -7;
    public const int EFAULT = -14;
    public const int EINVAL = -22;

    /// <summary>KVM_ENOSYS: the value a guest sees for an unknown hypercall number.</summary>
    public const int ENOSYS = -1000;

    /// <summary>
    /// A return value by name: "ok" (0, or a positive value such as the lock_cr ABI version), "eperm", "e2big",
    /// "efault", "einval", "enosys", or "other" for any other negative value. A fixed, small set (telemetry tags).
    /// </summary>
    public static string Name(long ret) => ret switch
    {
        >= Ok => "ok",
        EPERM => "eperm",
        E2BIG => "e2big",
        EFAULT => "efault",
        EINVAL => "einval",
        ENOSYS => "enosys",
        _ => "other",
    };
}
