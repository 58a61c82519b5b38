using System.Diagnostics;
using System.Text;

namespace HekiActors.Cli.Tests.Limits;

/// <summary>
/// issue 8, items 5, 7 and 8 as a user meets them: each input that used to hang, crash or pass 8 GB now ends at once,
/// exit 2, one message naming the problem, nothing on standard output. Run on the built <c>heki</c> with a deadline.
/// </summary>
public sealed class SimulateLimitsProcessTests
{
    [Theory]
    [InlineData("--vms 2147483647", "--vms must be an integer from 1 to 10000000, got 2147483647")]
    [InlineData("--vms 1000000", "the run needs about")]
    [InlineData("--vcpus 4096 --vms 1000", "the run needs about")]
    [InlineData("--memory-mb 100000000", "the run needs about")]
    [InlineData("--memory-mb 72057594037927936", "--memory-mb must be an integer from 16 to 17592186044416 (MiB), got 72057594037927936")]
    [InlineData("--memory-mb 72057594037927952", "--memory-mb must be an integer from 16 to 17592186044416 (MiB), got 72057594037927952")]
    [InlineData("--rounds 2000000000", "rounds (2000000000) must leave each round at least 1ms of the duration (20s): at most 20000 rounds")]
    [InlineData("--duration 0.0000001s", "--duration must be a duration from 1ms to 7 days")]
    [InlineData("--duration 1e-400", "--duration must be a duration from 1ms to 7 days")]
    [InlineData("--trace-ratio 1e-400", "--trace-ratio must be 0 or a number from 1e-9 to 1, got 1e-400")]
    public void A_run_that_cannot_be_done_is_refused_before_anything_boots(string args, string expected)
    {
        var result = HekiProcess.Run(["simulate", .. args.Split(' '), "--no-progress"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("heki simulate: " + expected, result.Error);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public void The_memory_refusal_gives_the_estimate_and_the_memory_available()
    {
        var result = HekiProcess.Run(["simulate", "--vms", "1000000", "--no-progress"]);

        Assert.Equal(2, result.ExitCode);
        // The child's heap is capped at 1 GiB, which the runtime reports as the memory available.
        Assert.Contains("the run needs about 254 GiB of memory but 1.0 GiB is available: 80 MiB + 72 protected ranges × 200 B + 1,000,000 VMs × (64 KiB + 2 vCPUs × 80 KiB + 72 ranges × 600 B)", result.Error);
    }

    [Fact]
    public void Attacks_of_2147483647_per_round_are_refused_by_nothing_but_memory_and_end_within_their_duration()
    {
        using var folder = new TempFolder();
        var file = folder.File("many-attacks.yaml", "vms: 1\nvcpus: 1\nmemory_mb: 64\nkernel:\n  image: synthetic\nattacks:\n  write_kernel_text: 2147483647\n");

        var clock = Stopwatch.StartNew();
        var result = HekiProcess.Run(["simulate", file, "--duration", "2s", "--rounds", "2", "--no-progress"]);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("write_kernel_text", result.Output);
        // Lazily generated: the run stops at its 2 s deadline whatever the count (generous for a loaded machine).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed}");
    }

    public static TheoryData<string, string, string> MalformedFiles => new()
    {
        // 600 bytes of nested anchors and aliases ("billion laughs"): refused at the first anchor, before any expansion.
        { "laughs.yaml", Laughs(), "laughs.yaml:1: YAML anchors (&a) are not supported in scenario files" },
        { "deep.yaml", "a: " + string.Concat(Enumerable.Repeat("{a: ", 10_000)) + "1" + new string('}', 10_000) + "\n", "deep.yaml:1: nesting deeper than 16 levels" },
        { "deep-block.yaml", string.Concat(Enumerable.Range(0, 40).Select(i => new string(' ', 2 * i) + "a:\n")) + new string(' ', 80) + "1\n", "deep-block.yaml:17: nesting deeper than 16 levels" },
        { "deep.json", new string('[', 10_000) + new string(']', 10_000), "deep.json:1: malformed JSON" },
        { "unclosed.yaml", "vms: [1\nvcpus: 2\n", "unclosed.yaml:2: malformed YAML" },
        { "unclosed-map.yaml", "workload: {read: 1\nvms: 2\n", "unclosed-map.yaml:2: malformed YAML" },
        { "latin1.yaml", "vms: 3\nprofile: h\u00e9\n", "latin1.yaml:2: the file is not valid UTF-8 (byte 0xE9)" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void A_malformed_scenario_file_exits_2_with_its_file_and_line(string name, string text, string expected)
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, name);
        // Latin-1 on purpose for the invalid UTF-8 case; every other text is ASCII, identical in both encodings.
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text));

        var result = HekiProcess.Run(["simulate", name, "--no-progress"], workingDirectory: folder.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("heki simulate: " + expected, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public void An_endless_scenario_path_is_refused_without_reading_it()
    {
        using var folder = new TempFolder();
        File.CreateSymbolicLink(Path.Combine(folder.Path, "zero.yaml"), "/dev/zero");
        var fifo = Path.Combine(folder.Path, "fifo.yaml");
        Assert.Equal(0, RunTool("mkfifo", fifo));

        var zero = HekiProcess.Run(["simulate", "zero.yaml"], workingDirectory: folder.Path);
        // Nobody writes to the FIFO: opening it would block forever.
        var pipe = HekiProcess.Run(["simulate", "fifo.yaml"], workingDirectory: folder.Path);
        var directory = HekiProcess.Run(["simulate", folder.Path + "/"], workingDirectory: folder.Path);

        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("heki simulate: zero.yaml: is a character device; a scenario must be a regular file", zero.Error);
        Assert.Equal(2, pipe.ExitCode);
        Assert.Contains("heki simulate: fifo.yaml: is a FIFO; a scenario must be a regular file", pipe.Error);
        Assert.Equal(2, directory.ExitCode);
    }

    [Fact]
    public void A_scenario_file_over_1_MiB_is_refused()
    {
        using var folder = new TempFolder();
        // Valid YAML all the way: only its size is wrong.
        folder.File("big.yaml", "vms: 3\n" + string.Concat(Enumerable.Repeat("# padding padding padding padding padding padding\n", 25_000)));

        var result = HekiProcess.Run(["simulate", "big.yaml"], workingDirectory: folder.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("heki simulate: big.yaml: a scenario file must not exceed 1,048,576 bytes", result.Error);
    }

    /// <summary>11 levels of 9 aliases each: 9^11 nodes once expanded, 600-odd bytes on disk.</summary>
    private static string Laughs()
    {
        var text = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
        var previous = "a";
        for (var i = 1; i <= 11; i++)
        {
            var name = "a" + i;
            text.Append($"{name}: &{name} [{string.Join(", ", Enumerable.Repeat("*" + previous, 9))}]\n");
            previous = name;
        }

        return text.Append("bogus: 1\n").ToString();
    }

    private static int RunTool(string tool, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args) { UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
