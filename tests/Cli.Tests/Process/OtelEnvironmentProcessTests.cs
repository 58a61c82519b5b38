namespace HekiActors.Cli.Tests;

/// <summary>
/// QA 7 M4 on the real commands: every command with <c>--telemetry otlp</c> refuses a bad OTEL_EXPORTER_OTLP_* value
/// with one line naming the variable and the value (and the usual hint), exit 2, before anything starts (no journal, no report).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class OtelEnvironmentProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT='http://[::1'", "simulate --kernel synthetic --vms 1 --vcpus 1 --memory-mb 16 --duration 1s --no-progress --report r.json")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT=''", "simulate --kernel synthetic --vms 1 --vcpus 1 --memory-mb 16 --duration 1s --no-progress --report r.json")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL=http", "chaos --vms 1 --duration 1s --report r.json")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:99999", "node --port 0")]
    public void A_bad_otlp_variable_is_refused_before_anything_starts(string assignment, string command)
    {
        using var heki = HekiProcess.Shell(_folder.Path, $"{assignment} exec $HEKI {command} --telemetry otlp");
        heki.StandardInput.Close();

        Assert.Equal(2, heki.WaitForExit());
        var variable = assignment[..assignment.IndexOf('=', StringComparison.Ordinal)];
        // One line naming the variable, then at most the usual "Try 'heki ... --help'" hint.
        var lines = heki.Stderr.TrimEnd('\n').Split('\n');
        Assert.InRange(lines.Length, 1, 2);
        Assert.StartsWith(variable + " ", lines[0].Split(": ", 2)[^1], StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }
}
