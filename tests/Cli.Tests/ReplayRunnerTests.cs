using HekiActors.Cli.Replay;

namespace HekiActors.Cli.Tests;

public class ReplayRunnerTests
{
    private const string CreateVm = """{"op":"create_vm","vm":"a","memory_mb":1,"vcpus":1}""";

    [Fact]
    public async Task A_missing_file_exits_2_naming_the_file_and_prints_nothing_on_stdout()
    {
        var path = Path.Combine(Path.GetTempPath(), "heki-replay-" + Guid.NewGuid().ToString("N") + ".jsonl");

        var run = await ReplayHarness.Run(path, "", "hardened");

        Assert.Equal(ReplayRunner.ExitUnreadable, run.Exit);
        Assert.Empty(run.Stdout);
        Assert.Contains(run.Stderr, line => line.Contains(path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_directory_cannot_be_read_and_exits_2()
    {
        var run = await ReplayHarness.Run(Path.GetTempPath(), "", "hardened");

        Assert.Equal(ReplayRunner.ExitUnreadable, run.Exit);
        Assert.Empty(run.Stdout);
        Assert.Single(run.Stderr);
    }

    [Fact]
    public async Task A_file_is_read_instead_of_stdin_when_named()
    {
        var path = Path.Combine(Path.GetTempPath(), "heki-replay-" + Guid.NewGuid().ToString("N") + ".jsonl");
        await File.WriteAllTextAsync(path, CreateVm + "\n");
        try
        {
            var run = await ReplayHarness.Run(path, "this stdin is not read", "hardened");

            Assert.Equal(ReplayRunner.ExitOk, run.Exit);
            Assert.Equal(["""{"line":1,"ok":true}"""], run.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Every_line_processed_without_error_exits_0()
    {
        var run = await ReplayHarness.Run(CreateVm + "\n" + """{"op":"get_permissions","vm":"a","gfn":0}""", "heki-v2");

        Assert.Equal(ReplayRunner.ExitOk, run.Exit);
        Assert.Equal(["""{"line":1,"ok":true}""", """{"line":2,"attr":7}"""], run.Stdout);
    }

    [Fact]
    public async Task One_bad_line_exits_1_and_the_lines_after_it_still_run()
    {
        var run = await ReplayHarness.Run("{\n" + CreateVm + "\n", "hardened");

        Assert.Equal(ReplayRunner.ExitLineErrors, run.Exit);
        Assert.Equal(["""{"line":1,"error":"line is not valid JSON"}""", """{"line":2,"ok":true}"""], run.Stdout);
    }

    [Fact]
    public async Task Empty_input_and_only_comments_print_nothing_and_exit_0()
    {
        var run = await ReplayHarness.Run("\n# nothing to do\n   \n\t# indented\n", "hardened");

        Assert.Equal(ReplayRunner.ExitOk, run.Exit);
        Assert.Empty(run.Stdout);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Crlf_line_endings_are_accepted_and_counted_once()
    {
        var run = await ReplayHarness.Run("# comment\r\n" + CreateVm + "\r\n", "hardened");

        Assert.Equal(["""{"line":2,"ok":true}"""], run.Stdout);
    }

    [Fact]
    public async Task Warnings_reach_stderr_with_the_kernel_texts_and_the_rate_limit_holds()
    {
        var script = string.Join('\n',
            [
                CreateVm,
                """{"op":"set_permissions","vm":"a","start":16,"end":32,"attr":9}""",
                .. Enumerable.Repeat("""{"op":"set_permissions","vm":"a","start":20,"end":21,"attr":7}""", 12),
                """{"op":"access","vm":"a","vcpu":0,"gpa":69632,"kind":"write"}""",
                """{"op":"write_cr","vm":"a","vcpu":0,"cr":0,"value":65536}""",
                """{"op":"lock_cr","vm":"a","vcpu":0,"cr":0,"pin":65536,"flags":0}""",
                """{"op":"write_cr","vm":"a","vcpu":0,"cr":0,"value":0}""",
            ]);

        var run = await ReplayHarness.Run(script, "hardened");

        Assert.Equal(
            [
                .. Enumerable.Repeat("kvm: heki: Guest tried to change immutable permission for GFNs 14-15", 10),
                "heki: Creating write #PF at 0x0000000000011000 GFN=11",
                "heki: Blocked CR0 update: 0x0",
            ],
            run.Stderr);
        Assert.Equal(ReplayRunner.ExitOk, run.Exit);
    }

    [Fact]
    public async Task After_the_interval_a_suppression_notice_names_the_kernel_function_and_count()
    {
        var script = string.Join('\n',
            [
                CreateVm,
                """{"op":"set_permissions","vm":"a","start":0,"end":1,"attr":8}""",
                .. Enumerable.Repeat("""{"op":"set_permissions","vm":"a","start":0,"end":1,"attr":7}""", 14),
            ]);
        var stderr = new StringWriter { NewLine = "\n" };

        // Each warning reads the clock 0.4 s later: warnings 11-13 fall in the first 5 s and are suppressed,
        // the 14th opens a new interval (5.2 s after the first) and first reports the 3 suppressed ones.
        var exit = await ReplayRunner.RunAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(script)), Memory.HekiProfile.Hardened, TextWriter.Null, stderr,
            new SteppingClock(TimeSpan.FromMilliseconds(400)));

        const string immutable = "kvm: heki: Guest tried to change immutable permission for GFNs 0-1";
        Assert.Equal([.. Enumerable.Repeat(immutable, 10), "kvm_permissions_set: 3 callbacks suppressed", immutable],
            ReplayHarness.Lines(stderr.ToString()));
        Assert.Equal(ReplayRunner.ExitOk, exit);
    }

    /// <summary>A clock that moves on by a fixed step every time it is read.</summary>
    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _reads;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => (Interlocked.Increment(ref _reads) - 1) * step.Ticks;
    }
}
