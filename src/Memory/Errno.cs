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
}
