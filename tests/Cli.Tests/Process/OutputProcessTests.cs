using System.Security.Cryptography;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Issue 8, items 3 and 11, on the real command: an output that is an input (or another output) is refused before
/// anything runs; when standard output goes away replay stops; a full disk is one line and exit 74, in every command.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class OutputProcessTests : IDisposable
{
    private const string ChaosSmall = "--operations 20 --vms 1 --findings f";
    private const string Small = "--vms 2 --vcpus 1 --memory-mb 64 --kernel synthetic --accesses-per-vcpu 2000 --rounds 2 --no-progress";
    private const string CreateVm = """{"op":"create_vm","vm":"a","memory_mb":64,"vcpus":2}""";
    private const string ReadCr = """{"op":"read_cr","vm":"a","vcpu":0,"cr":0}""";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("--sqlite-path k.db --record k.db", "--record k.db and the journal k.db are the same file")]
    [InlineData("one.yaml --record one.yaml", "--record one.yaml is the same file as the scenario file one.yaml")]
    [InlineData("one.yaml --report one.yaml", "--report one.yaml is the same file as the scenario file one.yaml")]
    [InlineData("one.yaml --sqlite-path one.yaml", "the journal one.yaml is the same file as the scenario file one.yaml")]
    [InlineData("--record run.jsonl --report run.jsonl", "--report run.jsonl and --record run.jsonl are the same file")]
    [InlineData("--sqlite-path k.db --record hard.db", "--record hard.db and the journal k.db are the same file")]
    [InlineData("--sqlite-path k.db --report soft.db", "--report soft.db and the journal k.db are the same file")]
    [InlineData("--sqlite-path k.db --record k.db-journal", "--record k.db-journal and the journal's SQLite file k.db-journal are the same file")]
    [InlineData("--profile both --record r.jsonl --report r.heki-v2.jsonl", "--report r.heki-v2.jsonl and --record r.heki-v2.jsonl are the same file")]
    [InlineData("--profile both --sqlite-path j.db --record j.db", "--record j.hardened.db and the journal j.hardened.db are the same file")]
    [InlineData("--kernel kernel.txt --memory-mb 128 --report kernel.txt", "--report kernel.txt is the same file as the kernel kernel.txt")]
    public void An_output_that_is_an_input_or_another_output_is_refused_before_anything_runs(string args, string says)
    {
        var inputs = Inputs();

        // Small's memory is too little for a real kernel: a case that sets its own keeps it.
        var small = args.Contains("--memory-mb", StringComparison.Ordinal) ? Small.Replace("--memory-mb 64 --kernel synthetic ", "", StringComparison.Ordinal) : Small;
        var (status, stdout, stderr) = HekiProcess.Run(["simulate", .. args.Split(' '), .. small.Split(' ')], _folder.Path);

        Assert.Equal(ExitCodes.Usage, status);
        Assert.StartsWith($"heki simulate: {says}", stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", stdout);
        Assert.Equal(inputs, Inputs()); // nothing was touched, nothing was created
    }

    /// <summary>QA S1: <c>heki chaos ch.yaml --report ch.yaml</c> overwrote the scenario file; chaos compared its outputs with
    /// each other only. Now every output kind against every input, as simulate.</summary>
    [Theory]
    [InlineData("one.yaml --report one.yaml", "--report one.yaml is the same file as the scenario file one.yaml")]
    [InlineData("one.yaml --sqlite-path one.yaml", "--sqlite-path one.yaml is the same file as the scenario file one.yaml")]
    [InlineData("one.yaml --sqlite-path j.db", "the journal's SQLite file j.db-wal is the same file as the scenario file one.yaml")]
    [InlineData("one.yaml --acknowledgements one.yaml", "--acknowledgements one.yaml is the same file as the scenario file one.yaml")]
    [InlineData("one.yaml --kill-process 1 --sqlite-path one", "the acknowledgement log one.acks is the same file as the scenario file one.yaml")]
    [InlineData("one.yaml --findings g", "the reproducer g/hardened-invariant3-bug.jsonl is the same file as the scenario file one.yaml")]
    [InlineData("--report f/heki-v2-invariant2-DroppedDowngrade.jsonl", "the reproducer f/heki-v2-invariant2-DroppedDowngrade.jsonl and --report f/heki-v2-invariant2-DroppedDowngrade.jsonl are the same file")]
    [InlineData("kernel.yaml --report kernel.txt", "--report kernel.txt is the same file as the kernel ")]
    public void A_chaos_output_that_is_an_input_or_another_output_is_refused_before_anything_runs(string args, string says)
    {
        var inputs = Inputs();

        var small = args.Contains("--findings", StringComparison.Ordinal) ? ChaosSmall.Replace(" --findings f", "", StringComparison.Ordinal) : ChaosSmall;
        var (status, stdout, stderr) = HekiProcess.Run(["chaos", .. args.Split(' '), .. small.Split(' ')], _folder.Path);

        Assert.True(status == ExitCodes.Usage, $"exit {status}\n{stderr}");
        Assert.StartsWith($"heki chaos: {says}", stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", stdout);
        Assert.Equal(inputs, Inputs()); // nothing was touched, nothing was created
    }

    [Theory]
    [InlineData("$HEKI chaos one.yaml " + ChaosSmall + " >>one.yaml", "heki chaos: standard output is the same file as the scenario file one.yaml: it would be overwritten")]
    [InlineData("$HEKI chaos one.yaml " + ChaosSmall + " --report /proc/self/fd/1 >>one.yaml", "heki chaos: --report /proc/self/fd/1 is the same file as the scenario file one.yaml: it would be overwritten")]
    [InlineData("$HEKI chaos one.yaml " + ChaosSmall + " 2>>one.yaml", "heki chaos: standard error is the same file as the scenario file one.yaml: it would be overwritten")]
    [InlineData("$HEKI chaos " + ChaosSmall + " --report soft.db --sqlite-path ./sub/../k.db", "heki chaos: --report soft.db and --sqlite-path ./sub/../k.db are the same file: one would overwrite the other")]
    [InlineData("$HEKI chaos " + ChaosSmall + " --sqlite-path hard.db >>k.db", "heki chaos: standard output and --sqlite-path hard.db are the same file: one would overwrite the other")]
    [InlineData("$HEKI chaos one.yaml " + ChaosSmall + " --report /dev/stdout >>one.yaml", "heki chaos: --report /dev/stdout is the same file as the scenario file one.yaml: it would be overwritten")]
    public void A_chaos_standard_stream_or_output_over_an_input_is_refused_without_writing_into_it(string script, string says) =>
        A_standard_stream_redirected_to_an_input_is_refused_without_writing_into_it(script, says);

    [Theory]
    [InlineData("$HEKI simulate --sqlite-path k.db " + Small + " >>k.db", "heki simulate: standard output and the journal k.db are the same file: one would overwrite the other")]
    [InlineData("$HEKI simulate --sqlite-path k.db " + Small + " 2>>k.db", "heki simulate: standard error and the journal k.db are the same file: one would overwrite the other")]
    [InlineData("$HEKI simulate --sqlite-path k.db " + Small + " >>k.db 2>&1", "")]
    [InlineData("$HEKI replay one.yaml >>one.yaml", "heki replay: standard output is the same file as the input one.yaml: replay would read its own results")]
    [InlineData("$HEKI replay - <one.yaml >>one.yaml", "heki replay: standard output is the same file as standard input: replay would read its own results")]
    public void A_standard_stream_redirected_to_an_input_is_refused_without_writing_into_it(string script, string says)
    {
        var inputs = Inputs();
        using var heki = HekiProcess.Shell(_folder.Path, script);
        heki.StandardInput.Close();

        Assert.Equal(ExitCodes.Usage, heki.WaitForExit());
        // The message goes where it cannot land in the file: standard error, else standard output, else nowhere.
        Assert.Equal(says.Length == 0 ? "" : says + "\n", heki.Stderr + heki.Stdout);
        Assert.Equal(inputs, Inputs());
    }

    [Fact]
    public void Replay_stops_when_the_reader_of_its_output_goes_away()
    {
        // yes | heki replay - | head -2: before, replay never ended (.NET's console stream ignores EPIPE).
        using var heki = HekiProcess.Shell(_folder.Path,
            $"(echo '{CreateVm}'; yes '{ReadCr}') 2>/dev/null | $HEKI replay - | head -2; echo \"replay exit ${{PIPESTATUS[1]}}\" >&2");
        heki.StandardInput.Close();

        Assert.Equal(0, heki.WaitForExit());
        Assert.Equal("{\"line\":1,\"ok\":true}\n{\"line\":2,\"value\":0}\n", heki.Stdout);
        Assert.Equal($"heki replay: cannot write standard output: Broken pipe\nreplay exit {ExitCodes.OutputFailed}\n", heki.Stderr);
    }

    [Theory]
    [InlineData("$HEKI replay in.jsonl >/dev/full", "heki replay: cannot write standard output: No space left on device")]
    [InlineData("$HEKI simulate " + Small + " >/dev/full", "heki simulate: cannot write standard output: No space left on device")]
    [InlineData("$HEKI simulate " + Small + " --report /dev/full", "heki simulate: cannot write --report /dev/full: No space left on device")]
    [InlineData("$HEKI simulate " + Small + " --report - >/dev/full", "heki simulate: cannot write standard output: No space left on device")]
    [InlineData("$HEKI simulate " + Small + " --record /dev/full", "heki simulate: cannot write --record /dev/full: No space left on device")]
    [InlineData("$HEKI replay in.jsonl --bogus >/dev/full 2>&1", "")] // even the usage message cannot be written
    [InlineData("$HEKI kernel-data --kernel k.txt --sample 2 >/dev/full", "heki kernel-data: cannot write standard output: No space left on device")]
    [InlineData("$HEKI kernel-data --kernel k.txt --sample 2 --output /dev/full", "heki kernel-data: cannot write --output /dev/full: No space left on device")]
    public void A_full_disk_is_one_line_and_exit_74_in_every_command(string script, string says)
    {
        File.WriteAllText(_folder.File("in.jsonl"), CreateVm + "\n" + ReadCr + "\n");
        using (var kernel = new StreamWriter(_folder.File("k.txt")))
            HekiActors.Simulation.Kernels.KernelDataFile.Write(kernel, HekiActors.Simulation.Kernels.ShippedKernels.Debian);
        using var heki = HekiProcess.Shell(_folder.Path, script);
        heki.StandardInput.Close();

        var status = heki.WaitForExit();

        Assert.Equal(ExitCodes.OutputFailed, status);
        var lines = heki.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("recorded ", StringComparison.Ordinal) && !l.StartsWith("heki kernel-data: 38 sections", StringComparison.Ordinal));
        Assert.Equal(says.Length == 0 ? [] : [says], lines);
    }

    /// <summary>Creates the inputs the cases name and returns a fingerprint of the whole folder.</summary>
    private string Inputs()
    {
        if (!File.Exists(_folder.File("one.yaml")))
        {
            File.WriteAllText(_folder.File("one.yaml"), "vms: 2\n");
            using (var kernel = new StreamWriter(_folder.File("kernel.txt")))
                HekiActors.Simulation.Kernels.KernelDataFile.Write(kernel, HekiActors.Simulation.Kernels.ShippedKernels.Debian);
            // Any bytes: every case is refused before the journal is even looked at.
            File.WriteAllBytes(_folder.File("k.db"), RandomNumberGenerator.GetBytes(16));
            File.CreateSymbolicLink(_folder.File("soft.db"), "k.db");
            Link(_folder.File("k.db"), _folder.File("hard.db"));
            File.WriteAllText(_folder.File("kernel.yaml"), "vms: 1\nkernel:\n  image: kernel.txt\n");
            Directory.CreateDirectory(_folder.File("g"));
            Directory.CreateDirectory(_folder.File("sub"));
            Link(_folder.File("one.yaml"), _folder.File("g/hardened-invariant3-bug.jsonl"));
            Link(_folder.File("one.yaml"), _folder.File("one.acks"));
            Link(_folder.File("one.yaml"), _folder.File("j.db-wal"));
        }

        return string.Join("\n", Directory.EnumerateFileSystemEntries(_folder.Path).Order()
            .Select(f => $"{Path.GetFileName(f)} {(File.Exists(f) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))) : "-")}"));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link")]
    private static extern int Link(string existing, string created);
}
