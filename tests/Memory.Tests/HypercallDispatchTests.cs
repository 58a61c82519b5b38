using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;

namespace HekiActors.Memory.Tests;

/// <summary>The generic hypercall rules (§5): CPL first, then the number.</summary>
public class HypercallDispatchTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Protect_from_cpl3_returns_eperm_before_anything_else(int cpl)
    {
        Assert.Equal(HypercallKind.Rejected, HypercallDispatch.Classify(HypercallNumbers.KVM_HC_PROTECT_MEMORY, cpl));
        Assert.Equal(Errno.EPERM, HypercallDispatch.RejectionCode(HypercallNumbers.KVM_HC_PROTECT_MEMORY, cpl));
    }

    [Fact]
    public void Lock_cr_update_from_user_mode_returns_eperm()
    {
        Assert.Equal(HypercallKind.Rejected, HypercallDispatch.Classify(HypercallNumbers.KVM_HC_LOCK_CR_UPDATE, 3));
        Assert.Equal(-1L, HypercallDispatch.RejectionCode(HypercallNumbers.KVM_HC_LOCK_CR_UPDATE, 3));
    }

    [Fact]
    public void Unknown_hypercall_from_cpl3_returns_eperm_not_enosys()
    {
        Assert.Equal(HypercallKind.Rejected, HypercallDispatch.Classify(99, 3));
        Assert.Equal(-1L, HypercallDispatch.RejectionCode(99, 3));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(12UL)]
    [InlineData(15UL)]
    [InlineData(ulong.MaxValue)]
    public void Unknown_hypercall_returns_enosys(ulong nr)
    {
        Assert.Equal(HypercallKind.Rejected, HypercallDispatch.Classify(nr, 0));
        Assert.Equal(-1000L, HypercallDispatch.RejectionCode(nr, 0));
    }

    [Fact]
    public void Hypercall_numbers_are_the_rfc_values()
    {
        Assert.Equal(13UL, HypercallNumbers.KVM_HC_LOCK_CR_UPDATE);
        Assert.Equal(14UL, HypercallNumbers.KVM_HC_PROTECT_MEMORY);
    }

    [Fact]
    public void Kernel_mode_heki_hypercalls_are_routed_with_no_rejection_code()
    {
        Assert.Equal(HypercallKind.LockCrUpdate, HypercallDispatch.Classify(13, 0));
        Assert.Equal(HypercallKind.ProtectMemory, HypercallDispatch.Classify(14, 0));
        Assert.Equal(0L, HypercallDispatch.RejectionCode(13, 0));
        Assert.Equal(0L, HypercallDispatch.RejectionCode(14, 0));
    }
}
