using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>
/// Where <c>.ci/kernel-package</c> (run by <c>.ci/services</c>) unpacks Debian's linux-image-6.1.0-47-amd64. In CI a
/// missing package fails the test that needs it, with the reason; elsewhere that test is skipped with the reason.
/// </summary>
internal static partial class DebianKernelPackage
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

    /// <summary>
    /// The section headers <c>readelf -S -W</c> printed, [0] left out: name, type, address, size (hex in readelf),
    /// the flag letters, and the alignment.
    /// </summary>
    public static List<ReadelfSection> ReadelfSections(string output)
    {
        var sections = new List<ReadelfSection>();
        foreach (var line in output.Split('\n'))
        {
            var m = SectionLine().Match(line);
            if (m.Success && m.Groups[1].Value != "0")
            {
                sections.Add(new ReadelfSection(m.Groups[2].Value, m.Groups[3].Value, Hex(m.Groups[4].Value), Hex(m.Groups[6].Value),
                    m.Groups[8].Value, ulong.Parse(m.Groups[11].Value, CultureInfo.InvariantCulture)));
            }
        }

        Assert.NotEmpty(sections);
        return sections;
    }

    /// <summary>The LOAD lines <c>readelf -l -W</c> printed: virtual address, physical address, memory size.</summary>
    public static List<(ulong Virtual, ulong Physical, ulong MemorySize)> ReadelfLoads(string output) =>
        output.Split('\n').Select(l => LoadLine().Match(l)).Where(m => m.Success)
            .Select(m => (Hex(m.Groups[2].Value), Hex(m.Groups[3].Value), Hex(m.Groups[5].Value))).ToList();

    public static ulong Hex(string text) => ulong.Parse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    // "  [ 1] .text  PROGBITS  ffffffff81000000 200000 e01d32 00  AX  0   0 4096": name, type, address, offset, size, entsize, flags, link, info, align.
    [GeneratedRegex(@"^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]{2})\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")]
    private static partial Regex SectionLine();

    // "  LOAD  0x200000 0xffffffff81000000 0x0000000001000000 0x18e629c 0x18e629c R E 0x200000"
    [GeneratedRegex(@"^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s")]
    private static partial Regex LoadLine();

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

/// <summary>One section header as readelf prints it.</summary>
internal sealed record ReadelfSection(string Name, string Type, ulong Address, ulong Size, string Flags, ulong Alignment);
