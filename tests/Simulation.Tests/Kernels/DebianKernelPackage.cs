using System.Diagnostics;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>
/// Where <c>.ci/kernel-package</c> (run by <c>.ci/services</c>) unpacks Debian's linux-image-6.1.0-47-amd64. In CI a
/// missing package fails the test that needs it, with the reason; elsewhere that test is skipped with the reason.
/// </summary>
internal static class DebianKernelPackage
{
    public const string Package = "linux-image-6.1.0-47-amd64";
    public const string Version = "6.1.170-3";
    public const string Release = "6.1.0-47-amd64";
    public const string Sha256 = "e0061f95dbe31f5646e5a29ba9a62293f6b625a70e81fc2b04344d8ab7589c34";

    public static string Directory =>
        Path.Combine(Environment.GetEnvironmentVariable("HEKI_KERNEL_CACHE") ?? "/var/cache/heki-kernels", $"{Package}_{Version}");

    public static string BzImage => Path.Combine(Directory, "boot", $"vmlinuz-{Release}");

    public static string Modules => Path.Combine(Directory, "lib", "modules", Release);

    public static string Deb => Path.Combine(Directory, $"{Package}_{Version}_amd64.deb");

    /// <summary>Fails (in CI) or skips (elsewhere) unless the unpacked package is there.</summary>
    public static void Require()
    {
        if (File.Exists(Path.Combine(Directory, ".complete")) && File.Exists(BzImage))
            return;
        var reason = $"{Package} {Version} is not unpacked in {Directory}: run .ci/services (or .ci/kernel-package) first";
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", reason);
        Skip.If(true, reason);
    }

    /// <summary>Also needs readelf (binutils), which .ci/kernel-package installs.</summary>
    public static void RequireReadelf()
    {
        Require();
        if (File.Exists("/usr/bin/readelf"))
            return;
        const string reason = "readelf is not installed (apt-get install -y binutils; .ci/kernel-package does it)";
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", reason);
        Skip.If(true, reason);
    }

    /// <summary>Runs <c>readelf</c> with <paramref name="arguments"/> and returns what it printed.</summary>
    public static string Readelf(params string[] arguments)
    {
        var start = new ProcessStartInfo("readelf") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"readelf {string.Join(' ', arguments)} exited {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
