using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>The package's vmlinux, extracted once from its bzImage for every test that needs it, and written to a temporary file.</summary>
public sealed class DebianKernelFixture : IDisposable
{
    private readonly Lazy<(byte[] Bytes, string Path)> _vmlinux = new(Extract);

    /// <summary>The ELF vmlinux inside the package's /boot/vmlinuz (requires the package: see <see cref="DebianKernelPackage.Require"/>).</summary>
    public byte[] Vmlinux
    {
        get
        {
            DebianKernelPackage.Require();
            return _vmlinux.Value.Bytes;
        }
    }

    /// <summary>The same vmlinux as a file, for readelf and for reading it as an ELF kernel.</summary>
    public string VmlinuxPath
    {
        get
        {
            DebianKernelPackage.Require();
            return _vmlinux.Value.Path;
        }
    }

    public void Dispose()
    {
        if (_vmlinux.IsValueCreated)
            File.Delete(_vmlinux.Value.Path);
    }

    private static (byte[], string) Extract()
    {
        var image = File.ReadAllBytes(DebianKernelPackage.BzImage);
        Assert.True(KernelImageReader.TryExtractVmlinux(image, DebianKernelPackage.BzImage, KernelImageLimits.Default, out var vmlinux, out var error), error);
        var path = Path.Combine(Path.GetTempPath(), $"heki-vmlinux-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, vmlinux);
        return (vmlinux, path);
    }
}

[CollectionDefinition(Name)]
public sealed class DebianKernelCollection : ICollectionFixture<DebianKernelFixture>
{
    public const string Name = "Debian kernel package";
}
