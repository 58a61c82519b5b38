using HekiActors.Cli.Replay;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Each Golden/&lt;name&gt;.jsonl is replayed in both profiles; stdout must equal &lt;name&gt;.&lt;profile&gt;.out line for
/// line, stderr &lt;name&gt;.&lt;profile&gt;.err when that file exists, and the exit status must be 1 exactly when an
/// expected line carries "error". The expected files were written from heki-semantics.md and replay-format.md.
/// </summary>
public class GoldenTests
{
    private static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "Golden");

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var script in System.IO.Directory.GetFiles(Directory, "*.jsonl").Order(StringComparer.Ordinal))
        {
            foreach (var profile in ReplayHarness.Profiles)
                cases.Add(Path.GetFileNameWithoutExtension(script), profile);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Replay_prints_the_golden_output(string name, string profile)
    {
        var expectedOut = ReplayHarness.Lines(await File.ReadAllTextAsync(Path.Combine(Directory, $"{name}.{profile}.out")));

        var run = await ReplayHarness.Run(await File.ReadAllTextAsync(Path.Combine(Directory, name + ".jsonl")), profile);

        Assert.Equal(string.Join('\n', expectedOut), string.Join('\n', run.Stdout));
        var errPath = Path.Combine(Directory, $"{name}.{profile}.err");
        if (File.Exists(errPath))
            Assert.Equal(await File.ReadAllTextAsync(errPath), string.Join("", run.Stderr.Select(line => line + "\n")));
        var anyError = expectedOut.Any(line => line.Contains("\"error\":", StringComparison.Ordinal));
        Assert.Equal(anyError ? ReplayRunner.ExitLineErrors : ReplayRunner.ExitOk, run.Exit);
    }

    [Fact]
    public void Every_golden_script_has_expected_output_in_both_profiles()
    {
        var scripts = System.IO.Directory.GetFiles(Directory, "*.jsonl");
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            foreach (var profile in ReplayHarness.Profiles)
                Assert.True(File.Exists(Path.ChangeExtension(script, $"{profile}.out")), $"{script} has no {profile}.out");
        }
    }
}
