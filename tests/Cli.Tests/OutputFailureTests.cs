using HekiActors.Cli.Output;
using HekiActors.Cli.Simulate;
using HekiActors.Simulation;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Outputs that fail (a full disk, a reader gone) are reported once, by name, and never thrown into the engine's
/// actors: the record file and the progress display keep the failure for the command, which exits 74.
/// </summary>
public sealed class OutputFailureTests
{
    [Fact]
    public void A_write_failure_names_the_output_and_the_system_error()
    {
        using var full = new CheckedStream(new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1), "--report /dev/full");

        var failure = Assert.Throws<OutputFailedException>(() => full.Write(new byte[10]));

        Assert.Equal("cannot write --report /dev/full: No space left on device", failure.Message);
        Assert.Equal("--report /dev/full", failure.Target);
        // Failed once, failed for good: nothing half-written follows the first failure.
        Assert.Same(failure, Assert.Throws<OutputFailedException>(() => full.Flush()));
    }

    [Fact]
    public void A_record_file_on_a_full_disk_keeps_its_failure_and_tells_its_owner_once()
    {
        var told = new List<OutputFailedException>();
        var recorder = new RecordFileWriter("/dev/full", "s", SimulationSpec.Default(), told.Add);

        // Far more than its buffer: the writes that fail happen inside Record, which must not throw into an actor.
        for (var i = 0; i < 10_000; i++)
            recorder.Record("""{"op":"read_cr","vm":"sim-00000","vcpu":0,"cr":0}""");
        recorder.Dispose();

        var failure = Assert.Single(told);
        Assert.Same(failure, recorder.Failure);
        Assert.Equal("cannot write --record /dev/full: No space left on device", failure.Message);
        Assert.True(recorder.Lines < 10_000);
    }

    [Fact]
    public void Progress_on_a_failed_standard_error_stops_drawing_and_keeps_the_failure()
    {
        // Not disposed: closing a writer whose stream failed throws the failure again, as it should.
        var error = new StreamWriter(
            new CheckedStream(new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1), StandardStreams.ErrorName))
        {
            AutoFlush = true,
        };
        var display = new ProgressDisplay(error, live: false);

        display.Report(new SimulationProgress("boot", 0, 2, 0, 0, 0, 0, TimeSpan.FromSeconds(0.5), 0));
        display.Report(new SimulationProgress("run", 2, 2, 10, 0, 0, 0, TimeSpan.FromSeconds(1), 0.5));
        display.Complete();

        Assert.Equal("cannot write standard error: No space left on device", display.Failure?.Message);
    }
}
