namespace HekiActors.Cli.Tests;

/// <summary>
/// Output files on the real command: one that can never be written is refused before the run (exit 2) rather than
/// lost after it, and a FIFO that no program reads fails at once (exit 74) instead of blocking the command forever.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class OutputFileProcessTests : IDisposable
{
    private static readonly string[] Small = ["--vms", "2", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic",
        "--accesses-per-vcpu", "2000", "--rounds", "2", "--no-progress"];

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("--html", "ro/run.html")]
    [InlineData("--report", "ro/run.json")]
    [InlineData("--record", "ro/run.jsonl")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void An_output_in_a_read_only_folder_is_refused_before_the_run(string option, string path)
    {
        File.SetUnixFileMode(_folder.Path, (UnixFileMode)0b111_111_111);
        var readOnly = Directory.CreateDirectory(_folder.File("ro")).FullName;
        File.SetUnixFileMode(readOnly, (UnixFileMode)0b101_101_101);
        using var heki = HekiProcess.StartAsNobody(_folder.Path, ["simulate", option, path, .. Small]);
        heki.StandardInput.Close();

        Assert.Equal(ExitCodes.Usage, heki.WaitForExit());
        Assert.Equal($"heki simulate: {option} cannot write {path}: permission denied\n", heki.Stderr);
        Assert.Equal("", heki.Stdout); // no report: nothing ran
        Assert.Empty(Directory.EnumerateFileSystemEntries(readOnly));
    }

    [Theory]
    [InlineData("--html")]
    [InlineData("--report")]
    public void An_output_fifo_that_no_program_reads_fails_at_once_instead_of_hanging(string option)
    {
        using var heki = HekiProcess.Shell(_folder.Path, $"mkfifo out.fifo && exec $HEKI simulate {option} out.fifo {string.Join(' ', Small)}");
        heki.StandardInput.Close();

        Assert.Equal(ExitCodes.OutputFailed, heki.WaitForExit());
        Assert.EndsWith($"heki simulate: cannot write {option} out.fifo: it is a FIFO (named pipe) that no program is reading: start its reader first\n",
            heki.Stderr);
    }

    [Fact]
    public void A_record_fifo_that_no_program_reads_is_refused_before_the_run()
    {
        using var heki = HekiProcess.Shell(_folder.Path, $"mkfifo run.fifo && exec $HEKI simulate --record run.fifo {string.Join(' ', Small)}");
        heki.StandardInput.Close();

        Assert.Equal(ExitCodes.Usage, heki.WaitForExit());
        Assert.Contains("run.fifo: it is a FIFO (named pipe) that no program is reading", heki.Stderr);
        Assert.Equal("", heki.Stdout);
    }

    [Fact]
    public void An_html_report_into_a_fifo_with_a_reader_arrives_whole()
    {
        // cat waits in open(2) for a writer, which makes it a reader; heki opens the FIFO only after its whole run.
        using var heki = HekiProcess.Shell(_folder.Path,
            $"mkfifo out.fifo && {{ cat out.fifo > got.html & }} && $HEKI simulate --html out.fifo {string.Join(' ', Small)} && wait");
        heki.StandardInput.Close();

        Assert.Equal(0, heki.WaitForExit());
        var page = File.ReadAllText(_folder.File("got.html"));
        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.EndsWith("</html>\n", page);
    }
}
