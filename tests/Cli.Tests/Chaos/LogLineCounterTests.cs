using HekiActors.Cli.Chaos;

namespace HekiActors.Cli.Tests.Chaos;

public sealed class LogLineCounterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("heki-linecounter-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Counts_complete_lines_read_on_from_the_last_count()
    {
        var path = Path.Combine(_dir, "run.acks");
        var counter = new LogLineCounter(path);
        Assert.Equal(0, counter.Count());

        File.AppendAllText(path, "{\"start\":0}\n{\"vm\":0");
        Assert.Equal(1, counter.Count());
        File.AppendAllText(path, ",\"n\":1}\n{\"vm\":1,\"n\":1}\n");
        Assert.Equal(3, counter.Count());
    }

    [Fact]
    public void A_log_held_by_a_starting_childs_write_check_keeps_the_last_count()
    {
        var path = Path.Combine(_dir, "run.acks");
        var counter = new LogLineCounter(path);

        // What OutputFile does for a log that does not exist yet: create it exclusively, then delete it on close.
        using (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose))
            Assert.Equal(0, counter.Count());

        File.AppendAllText(path, "{\"start\":0}\n");
        Assert.Equal(1, counter.Count());
        using (new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
            Assert.Equal(1, counter.Count());
    }
}
