namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 8, item 13, on the real command: every message names the actual problem (the unknown option, not the word
/// after it; a directory as a directory; a flag's bad value as that flag's), in one line and a hint, exit 2.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CommandLineProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public CommandLineProcessTests()
    {
        File.WriteAllText(_folder.File("in.jsonl"), """{"op":"create_vm","vm":"a","memory_mb":64,"vcpus":2}""" + "\n");
        File.WriteAllText(_folder.File("one.yaml"), "vms: 1\n");
        Directory.CreateDirectory(_folder.File("adir"));
    }

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("replay --bogus in.jsonl", "heki replay: unknown option '--bogus'")]
    [InlineData("replay --bogus=3 in.jsonl", "heki replay: unknown option '--bogus'")]
    [InlineData("replay in.jsonl --mbec", "heki replay: unknown option '--mbec'")]
    [InlineData("replay adir", "heki replay: cannot read adir: is a directory, not a file")]
    [InlineData("replay missing.jsonl", "heki replay: cannot read missing.jsonl: no such file")]
    [InlineData("replay -- --bogus", "heki replay: cannot read --bogus: no such file")]
    [InlineData("replay in.jsonl in.jsonl", "heki replay: unexpected argument 'in.jsonl'")]
    [InlineData("replay --profile maybe", "heki replay: --profile must be hardened or heki-v2, got 'maybe'")]
    [InlineData("replay --profile", "heki replay: --profile needs a value")]
    [InlineData("simulate --mbec maybe", "heki simulate: --mbec takes true or false (or nothing, meaning true), got 'maybe'")]
    [InlineData("simulate --mbec=maybe one.yaml", "heki simulate: --mbec takes true or false (or nothing, meaning true), got 'maybe'")]
    [InlineData("simulate --no-progress maybe", "heki simulate: --no-progress takes true or false (or nothing, meaning true), got 'maybe'")]
    [InlineData("simulate --bogus one.yaml", "heki simulate: unknown option '--bogus'")]
    [InlineData("simulate one.yaml --vms", "heki simulate: --vms needs a value")]
    [InlineData("simulate --vms --duration 2s", "heki simulate: --vms needs a value (got the option --duration)")]
    [InlineData("simulate --vms 2 --vms 3", "heki simulate: --vms is given more than once")]
    [InlineData("simulate --record adir", "heki simulate: --record cannot write adir: it is a folder")]
    [InlineData("simulate --report adir/", "heki simulate: --report cannot write adir/: it is a folder")]
    [InlineData("simulate --sqlite-path adir", "heki simulate: journal adir: is a directory, not a file")]
    [InlineData("simulate --resume --fresh", "heki simulate: --resume and --fresh contradict each other")]
    [InlineData("simulate --resume", "heki simulate: --resume needs a SQLite journal (--journal sqlite or --sqlite-path): the inmem journal starts empty")]
    [InlineData("journal", "heki journal: FILE is missing")]
    [InlineData("journal missing.db", "heki journal: journal missing.db: does not exist")]
    [InlineData("journal adir", "heki journal: journal adir: is a directory, not a file")]
    [InlineData("journal in.jsonl", "heki journal: journal in.jsonl: not a SQLite database (it does not start with the SQLite header)")]
    [InlineData("journal /nonexistent-heki/x.db", "heki journal: journal /nonexistent-heki/x.db: directory /nonexistent-heki does not exist")]
    [InlineData("journal in.jsonl --vm", "heki journal: --vm needs a value")]
    [InlineData("bogus", "heki: unknown command 'bogus'; the commands are replay, simulate, kernel-data, journal, chaos and node")]
    [InlineData("", "heki: a command is needed; the commands are replay, simulate, kernel-data, journal, chaos and node")]
    public void A_bad_command_line_is_named_in_one_line_and_exits_2(string args, string says)
    {
        var (status, stdout, stderr) = HekiProcess.Run(args.Split(' ', StringSplitOptions.RemoveEmptyEntries), _folder.Path);

        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal(says, stderr.Split('\n')[0]);
        // At most a hint follows ("Try 'heki ... --help'"); nothing on standard output, no stack trace.
        Assert.True(stderr.TrimEnd('\n').Split('\n').Length <= 2, stderr);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("simulate", "--telemetry")]
    [InlineData("chaos", "--telemetry")]
    [InlineData("node", "--telemetry")]
    [InlineData("node", "--role")]
    [InlineData("node", "--host")]
    [InlineData("simulate", "--sqlite-path")]
    [InlineData("journal", "--vm")]
    public void An_empty_option_value_is_named_in_one_line_and_exits_2_before_anything_runs(string command, string option)
    {
        // Was taken silently: "heki simulate --telemetry ''" ran a whole simulation without telemetry.
        var (status, stdout, stderr) = HekiProcess.Run([command, option, ""], _folder.Path);

        Assert.Equal(ExitCodes.Usage, status);
        Assert.Equal($"heki {command}: {option} needs a value, got ''", stderr.Split('\n')[0]);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("simulate --kernel fifo", 2, "heki simulate: fifo: is a FIFO (named pipe), not a regular file")]
    [InlineData("simulate --kernel kernel.txt --modules /dev/zero --memory-mb 128", 2,
        "heki simulate: /dev/zero: is a character device, not a regular file or a folder")]
    [InlineData("simulate --sqlite-path fifo", 2, "heki simulate: journal fifo: is not a regular file (a device, pipe or socket cannot hold a journal)")]
    [InlineData("journal fifo", 2, "heki journal: journal fifo: is not a regular file (a device, pipe or socket cannot hold a journal)")]
    [InlineData("kernel-data --kernel fifo", 1, "heki kernel-data: fifo: is a FIFO (named pipe), not a regular file")]
    [InlineData("kernel-data --kernel kernel.txt --modules fifo", 1, "heki kernel-data: fifo: is a FIFO (named pipe), not a regular file or a folder")]
    public void An_input_that_is_a_FIFO_or_a_device_is_named_and_never_opened(string args, int status, string says)
    {
        // Opening a FIFO without a writer blocks forever; /dev/zero never ends: either would hang the command.
        Assert.Equal(0, MakeFifo(_folder.File("fifo"), 0b110_110_110));
        using (var kernel = new StreamWriter(_folder.File("kernel.txt")))
            HekiActors.Simulation.Kernels.KernelDataFile.Write(kernel, HekiActors.Simulation.Kernels.ShippedKernels.Debian);

        var result = HekiProcess.Run(args.Split(' '), _folder.Path);

        Assert.Equal(status, result.ExitCode);
        Assert.Equal(says, result.Error.Split('\n')[0]);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, int mode);

    [Fact]
    public void A_flag_before_a_scenario_file_still_takes_the_file_as_the_scenario()
    {
        var (status, stdout, stderr) = HekiProcess.Run(
            ["simulate", "--mbec", "one.yaml", "--vcpus", "1", "--memory-mb", "64", "--kernel", "synthetic", "--accesses-per-vcpu", "100", "--rounds", "1", "--no-progress"],
            _folder.Path);

        Assert.True(status == ExitCodes.Ok, stderr);
        Assert.StartsWith("heki simulate: scenario one, seed 1", stdout);
        Assert.Contains("MBEC on", stdout);
    }

    [Theory]
    [InlineData("simulate", "{0}.yaml")]
    [InlineData("simulate", "{0}")]
    [InlineData("replay", "{0}")]
    [InlineData("journal", "{0}")]
    [InlineData("node", "--host", "{0}")]
    [InlineData("simulate", "--{0}")]
    [InlineData("heki-command-{0}")]
    public void A_100_KB_name_is_echoed_capped(params string[] args)
    {
        var name = new string('n', 100_000);

        var (status, stdout, stderr) = HekiProcess.Run([.. args.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, a, name))], _folder.Path);

        Assert.Equal(2, status);
        Assert.Equal("", stdout);
        Assert.True(stderr.Length < 1_500, $"{stderr.Length} chars: {stderr[..Math.Min(stderr.Length, 400)]}");
        Assert.Contains(new string('n', 150), stderr);
        Assert.Contains(" chars)", stderr);
    }
}
