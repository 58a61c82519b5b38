using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Guest;

/// <summary>The guest a run boots: the default switch, both ways, and the checks of a real kernel's module choices.</summary>
public sealed class GuestKernelSpecTests
{
    [Fact]
    public void The_default_guest_is_the_one_the_switch_names()
    {
        Assert.Same(GuestKernelSpec.For(GuestKernelSpec.DefaultChoice).Package, GuestKernelSpec.Default.Package);
        Assert.Equal(GuestKernelSpec.Default, SimulationSpec.Default().Guest);
    }

    [Fact]
    public void The_synthetic_default_has_no_package_and_the_debian_default_shares_the_shipped_one()
    {
        Assert.Null(GuestKernelSpec.For(DefaultGuest.Synthetic).Package);
        Assert.Equal(KernelLayout.SyntheticName, GuestKernelSpec.For(DefaultGuest.Synthetic).Name);

        var debian = GuestKernelSpec.For(DefaultGuest.Debian);
        Assert.Same(ShippedKernels.Debian, debian.Package);
        Assert.Equal((2, 2), (debian.BootModules.Count, debian.RunModules.Count));
        Assert.Null(debian.Problem(1024));
        Assert.NotNull(debian.Problem(16)); // the synthetic minimum is too small for a real kernel
    }

    [Theory]
    [InlineData(new[] { "nope" }, null, "no module named \"nope\" among the kernel's 200 modules")]
    [InlineData(new[] { "zstd", "zstd" }, null, "module \"zstd\" is named twice")]
    [InlineData(new[] { "zstd" }, new[] { "zstd" }, "module \"zstd\" is named both to load at boot and during the run")]
    public void Module_names_must_exist_once(string[] boot, string[]? run, string problem)
    {
        var spec = new GuestKernelSpec(ShippedKernels.Debian, ModuleChoice.Named(boot), run is null ? ModuleChoice.None : ModuleChoice.Named(run));

        Assert.Equal(problem, spec.Problem(1024));
    }

    [Fact]
    public void Counts_must_fit_the_modules_the_kernel_has_and_the_synthetic_guest_has_none()
    {
        Assert.Equal("150 modules at boot and 51 during the run, but the kernel has 200 modules",
            new GuestKernelSpec(ShippedKernels.Debian, ModuleChoice.Counted(150), ModuleChoice.Counted(51)).Problem(1024));
        Assert.Null(new GuestKernelSpec(ShippedKernels.Debian, ModuleChoice.Counted(150), ModuleChoice.Counted(50)).Problem(1024));
        Assert.NotNull(new GuestKernelSpec(null, ModuleChoice.Counted(1), ModuleChoice.None).Problem(1024));
    }
}
