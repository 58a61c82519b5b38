using System.Runtime.InteropServices;

namespace HekiActors.Cli.Tests;

/// <summary>
/// An input that never comes never holds <c>heki replay</c>: a FIFO without a writer (its open waits in the kernel) stops
/// at the first signal with the documented line; a closed standard input is exit 2 at once, not a wait on the runtime's
/// own pipe that took descriptor 0.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ReplayInputProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(PosixSignal.SIGTERM, 143)]
    [InlineData(PosixSignal.SIGINT, 130)]
    public void A_FIFO_without_a_writer_stops_at_the_first_signal(PosixSignal signal, int status)
    {
        using var heki = HekiProcess.Shell(_folder.Path, "mkfifo in.fifo && DOTNET_EnableDiagnostics=0 exec $HEKI replay in.fifo");
        // Waiting for the signal until heki's open of the FIFO waits for a writer (the kernel's wait_for_partner). Without
        // diagnostics: the runtime's debugger transport waits in the open of FIFOs of its own at start.
        Assert.True(SpinWait.SpinUntil(() => WaitsInFifoOpen(heki.Id), HekiProcess.DefaultTimeout), "heki never waited in the FIFO's open");

        heki.Signal(signal);

        Assert.Equal(status, heki.WaitForExit());
        Assert.Equal("heki replay: stopped after line 0\n", heki.Stderr);
        Assert.Equal("", heki.Stdout);
    }

    [Fact]
    public void A_closed_standard_input_is_exit_2_at_once()
    {
        using var heki = HekiProcess.Shell(_folder.Path, "exec $HEKI replay <&-");

        Assert.Equal(ExitCodes.Usage, heki.WaitForExit());
        Assert.Equal("heki replay: cannot read standard input: it was closed when heki started\n", heki.Stderr);
    }

    [Fact]
    public void Standard_input_from_a_file_is_read_as_before()
    {
        File.WriteAllText(_folder.File("in.jsonl"), """{"op":"create_vm","vm":"a","memory_mb":16,"vcpus":1}""" + "\n");
        using var heki = HekiProcess.Shell(_folder.Path, "exec $HEKI replay < in.jsonl");

        Assert.Equal(0, heki.WaitForExit());
        Assert.Equal("{\"line\":1,\"ok\":true}\n", heki.Stdout);
    }

    private static bool WaitsInFifoOpen(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task")
                .Any(task => File.ReadAllText(Path.Combine(task, "wchan")) == "wait_for_partner");
        }
        catch (IOException)
        {
            return false;
        }
    }
}
