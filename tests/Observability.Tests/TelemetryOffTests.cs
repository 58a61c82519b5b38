using System.Diagnostics;

namespace HekiActors.Observability.Tests;

/// <summary>Telemetry off (the default): nothing listens, nothing is recorded, and the model behaves the same.</summary>
public sealed class TelemetryOffTests
{
    [Fact]
    public async Task With_telemetry_off_the_sequence_runs_and_nothing_listens()
    {
        using (var session = TelemetrySession.Start(TelemetryOptions.Off))
        {
            Assert.False(session.IsActive);
            Assert.False(HekiSpans.Enabled);
            Assert.False(HekiMetrics.Accesses.Enabled);
            Assert.False(HekiMetrics.FastPathDuration.Enabled);
            await using var host = GuestSequence.StartHost();
            await GuestSequence.RunAsync(host, traceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
            Assert.Null(Activity.Current);
            Assert.False(HekiSpans.Enabled);
        }

        Assert.Equal(1000, HekiTelemetry.FastPathSpanInterval); // the default 0.001 stays in force
    }

    [Fact]
    public async Task A_session_started_later_sees_nothing_of_an_untraced_run()
    {
        await using (var host = GuestSequence.StartHost())
        {
            await GuestSequence.RunAsync(host);
        }

        using var capture = new TelemetryCapture();
        Assert.Empty(capture.Spans());
        var metrics = capture.Metrics();
        // Every series exists from the session's start, at 0: nothing of the earlier run is in them.
        foreach (var name in new[] { "heki.accesses", "heki.hypercalls", "heki.violations" })
            Assert.Equal(0, InstrumentTests.Sum(metrics[name]));
    }

    [Fact]
    public void Disposing_a_session_turns_everything_off_again()
    {
        using (new TelemetryCapture(new TelemetryOptions(PerVmLabelLimit: 10, FastPathSpanRatio: 1)))
        {
            Assert.True(HekiSpans.Enabled);
            Assert.True(HekiMetrics.Accesses.Enabled);
            Assert.True(HekiTelemetry.PerVmLabels);
            Assert.Equal(1, HekiTelemetry.FastPathSpanInterval);
        }

        Assert.False(HekiSpans.Enabled);
        Assert.False(HekiMetrics.Accesses.Enabled);
        Assert.False(HekiTelemetry.PerVmLabels);
        Assert.Null(HekiSpans.StartDetached(HekiSpans.Hypercall, default));
    }
}
