using System.Diagnostics;
using System.Diagnostics.Tracing;
using OpenTelemetry;

namespace HekiActors.Observability;

/// <summary>
/// What telemetry itself lost in this process (issue 9, "nothing silently lost"): spans ended (sampled), spans the
/// export queue dropped, and exports an exporter reported as failed. The SDK reports drops and failures only on its
/// EventSources, so a listener counts them; <see cref="SpanCounter"/> counts the spans offered to the exporters.
/// Process-wide, like the SDK's own state; <see cref="TelemetrySession"/> resets it when it starts.
/// </summary>
public static class TelemetryLosses
{
    private static long s_spansEnded;
    private static long s_spansDropped;
    private static long s_exportFailures;
    private static string? s_firstFailure;

    /// <summary>Sampled spans that ended and were offered to the span exporters.</summary>
    public static long SpansEnded => Interlocked.Read(ref s_spansEnded);

    /// <summary>Spans an export queue dropped (known once the tracer provider has shut down: the SDK reports it then).</summary>
    public static long SpansDropped => Interlocked.Read(ref s_spansDropped);

    /// <summary>Exports (of spans or metrics) an exporter reported as failed.</summary>
    public static long ExportFailures => Interlocked.Read(ref s_exportFailures);

    /// <summary>The first failure's message, for the one stderr line and the report.</summary>
    public static string? FirstFailure => Volatile.Read(ref s_firstFailure);

    internal static void Reset()
    {
        Interlocked.Exchange(ref s_spansEnded, 0);
        Interlocked.Exchange(ref s_spansDropped, 0);
        Interlocked.Exchange(ref s_exportFailures, 0);
        Volatile.Write(ref s_firstFailure, null);
    }

    internal static void SpanEnded() => Interlocked.Increment(ref s_spansEnded);

    internal static void Dropped(long spans) => Interlocked.Add(ref s_spansDropped, spans);

    internal static void ExportFailed(string message)
    {
        Interlocked.Increment(ref s_exportFailures);
        Interlocked.CompareExchange(ref s_firstFailure, message, null);
    }

    /// <summary>Counts every recorded span as it ends, ahead of the export processors.</summary>
    internal sealed class SpanCounter : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.Recorded)
                SpanEnded();
        }
    }

    /// <summary>Listens to the SDK's and the OTLP exporter's EventSources for drops and failed exports.</summary>
    internal sealed class SdkEvents : EventListener
    {
        private const string Sdk = "OpenTelemetry-Sdk";
        private const string Otlp = "OpenTelemetry-Exporter-OpenTelemetryProtocol";

        /// <summary>
        /// Warnings that mean an export request failed: with gRPC (the default protocol) an unreachable collector is a
        /// "transient" error the exporter logs only as a warning, never as an error (over http/protobuf the same
        /// failure is an error), and a request that timed out is a warning with either protocol. The batch is gone
        /// (no retry unless OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY is set, and then each failed attempt counts). Other
        /// warnings (unsupported attribute, configuration) are not failed exports.
        /// </summary>
        private static readonly HashSet<string> FailedAttempts = new(StringComparer.Ordinal)
        {
            "TransientHttpError", "RequestTimedOut", "OperationUnexpectedlyCanceled",
        };

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name is Sdk or Otlp)
                EnableEvents(eventSource, EventLevel.Warning);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventSource.Name == Sdk && e.EventName == "ExistsDroppedExportProcessorItems")
            {
                Dropped(e.Payload?.OfType<long>().LastOrDefault() ?? 0);
            }
            else if (e.EventSource.Name == Otlp && (e.Level <= EventLevel.Error || FailedAttempts.Contains(e.EventName ?? "")))
            {
                var detail = e.Payload is { Count: > 0 } payload ? string.Join(", ", payload.Select(p => p?.ToString())) : "";
                // Payloads may hold a whole exception: its first line says enough for one stderr line.
                detail = detail.Split('\n')[0].Trim();
                if (detail.Length > 200)
                    detail = detail[..200] + "...";
                ExportFailed($"OTLP {e.EventName}{(detail.Length == 0 ? "" : ": " + detail)}");
            }
        }
    }
}

/// <summary>Telemetry's own figures for the report (the JSON's <c>telemetry</c> object): what the exporters got and lost.</summary>
/// <param name="SpansEnded">Sampled spans offered to the span exporters.</param>
/// <param name="SpansDropped">Spans an export queue dropped.</param>
/// <param name="ExportFailures">Exports an exporter reported as failed.</param>
/// <param name="FirstFailure">The first failure's message, or null.</param>
public sealed record TelemetrySummary(long SpansEnded, long SpansDropped, long ExportFailures, string? FirstFailure)
{
    /// <summary>The process's figures now (final after <see cref="TelemetrySession.EndRun"/>).</summary>
    public static TelemetrySummary Current() =>
        new(TelemetryLosses.SpansEnded, TelemetryLosses.SpansDropped, TelemetryLosses.ExportFailures, TelemetryLosses.FirstFailure);

    /// <summary>Whether anything was lost: worth one line on standard error.</summary>
    public bool LostAnything => SpansDropped > 0 || ExportFailures > 0;
}
