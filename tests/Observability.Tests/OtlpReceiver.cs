using HekiActors.TestSupport;
using System.Net;
using System.Text;

namespace HekiActors.Observability.Tests;

/// <summary>
/// A minimal OTLP/HTTP receiver on 127.0.0.1 (http/protobuf, the OpenTelemetry collector's /v1/traces and /v1/metrics):
/// it decodes the protobuf requests by their field numbers (opentelemetry-proto's trace.proto and metrics.proto) and
/// keeps every span and the latest value of every counter series. Enough of a collector to check what an exporter
/// really sent; also used by the benchmark harness.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Lock _gate = new();
    private readonly List<ReceivedSpan> _spans = [];
    private readonly Dictionary<string, (ulong Time, double Value, string Metric, Dictionary<string, string> Attributes)> _points = [];
    private readonly Task _loop;
    private readonly Dictionary<string, string> _resource = [];

    private readonly bool _decode;

    /// <param name="decode">False: only receive and count requests (a benchmark's collector, whose decoding must not
    /// count against the exporting process).</param>
    public OtlpReceiver(bool decode = true)
    {
        _decode = decode;
        Port = LoopbackPorts.Free();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>The OTEL_EXPORTER_OTLP_ENDPOINT for this receiver (protocol http/protobuf).</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public int TraceRequests { get; private set; }

    public int MetricRequests { get; private set; }

    public IReadOnlyList<ReceivedSpan> Spans
    {
        get
        {
            lock (_gate)
                return [.. _spans];
        }
    }

    /// <summary>The resource attributes of the last request.</summary>
    public IReadOnlyDictionary<string, string> Resource
    {
        get
        {
            lock (_gate)
                return new Dictionary<string, string>(_resource);
        }
    }

    /// <summary>
    /// The sum of the latest values of a sum metric's series whose attributes match <paramref name="matchers"/>
    /// (Prometheus syntax, <c>a_b="v"</c> or <c>a_b!="v"</c>, comma-separated; attribute dots read as underscores).
    /// Null when the metric never arrived.
    /// </summary>
    public double? Sum(string metric, string matchers)
    {
        var conditions = matchers.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(m =>
        {
            var negate = m.Contains("!=", StringComparison.Ordinal);
            var parts = m.Split(negate ? "!=" : "=", 2);
            return (Label: parts[0].Trim(), Value: parts[1].Trim().Trim('"'), Negate: negate);
        }).ToList();
        lock (_gate)
        {
            var series = _points.Values.Where(p => p.Metric == metric).ToList();
            if (series.Count == 0)
                return null;
            return series.Where(p => conditions.All(c =>
            {
                var has = p.Attributes.TryGetValue(c.Label, out var value);
                return c.Negate ? !has || value != c.Value : has && value == c.Value;
            })).Sum(p => p.Value);
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body).ConfigureAwait(false);
            var bytes = body.ToArray();
            lock (_gate)
            {
                if (!_decode)
                {
                    if (context.Request.Url?.AbsolutePath == "/v1/traces")
                        TraceRequests++;
                    else
                        MetricRequests++;
                }
                else if (context.Request.Url?.AbsolutePath == "/v1/traces")
                {
                    TraceRequests++;
                    foreach (var resourceSpans in Fields(bytes, 1))
                    {
                        ReadResource(resourceSpans);
                        foreach (var scopeSpans in Fields(resourceSpans, 2))
                        {
                            foreach (var span in Fields(scopeSpans, 2))
                                _spans.Add(ReadSpan(span));
                        }
                    }
                }
                else if (context.Request.Url?.AbsolutePath == "/v1/metrics")
                {
                    MetricRequests++;
                    foreach (var resourceMetrics in Fields(bytes, 1))
                    {
                        ReadResource(resourceMetrics);
                        foreach (var scopeMetrics in Fields(resourceMetrics, 2))
                        {
                            foreach (var metric in Fields(scopeMetrics, 2))
                                ReadMetric(metric);
                        }
                    }
                }
            }

            // An empty Export*ServiceResponse: zero bytes of protobuf.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.ContentLength64 = 0;
            context.Response.Close();
        }
    }

    private void ReadResource(byte[] resourceX)
    {
        foreach (var resource in Fields(resourceX, 1))
        {
            foreach (var (key, value) in Attributes(resource, 1))
                _resource[key] = value;
        }
    }

    private static ReceivedSpan ReadSpan(byte[] span)
    {
        var name = Fields(span, 5).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";
        return new ReceivedSpan(Hex(Fields(span, 1).FirstOrDefault()), Hex(Fields(span, 2).FirstOrDefault()),
            Hex(Fields(span, 4).FirstOrDefault()), name, Attributes(span, 9).ToDictionary(a => a.Key, a => a.Value));
    }

    private void ReadMetric(byte[] metric)
    {
        var name = Fields(metric, 1).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";
        foreach (var sum in Fields(metric, 7))
        {
            foreach (var point in Fields(sum, 1))
            {
                var attributes = Attributes(point, 7).ToDictionary(a => a.Key.Replace('.', '_'), a => a.Value);
                var time = Scalars(point, 3).Select(v => v.Value).FirstOrDefault();
                double value = 0;
                foreach (var (field, raw) in Scalars(point, 4, 6))
                    value = field == 4 ? BitConverter.Int64BitsToDouble((long)raw) : (long)raw;
                var key = name + "|" + string.Join(",", attributes.OrderBy(a => a.Key).Select(a => a.Key + "=" + a.Value));
                if (!_points.TryGetValue(key, out var existing) || existing.Time <= time)
                    _points[key] = (time, value, name, attributes);
            }
        }
    }

    /// <summary>KeyValue attributes (string, int and bool values as text) in field <paramref name="field"/>.</summary>
    private static IEnumerable<(string Key, string Value)> Attributes(byte[] message, int field)
    {
        foreach (var keyValue in Fields(message, field))
        {
            var key = Fields(keyValue, 1).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";
            var any = Fields(keyValue, 2).FirstOrDefault() ?? [];
            var text = Fields(any, 1).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault()
                ?? Scalars(any, 2, 3).Select(v => v.Field == 2 ? (v.Value != 0).ToString() : ((long)v.Value).ToString(System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault()
                ?? "";
            yield return (key, text);
        }
    }

    /// <summary>The length-delimited values of field <paramref name="field"/>.</summary>
    private static List<byte[]> Fields(byte[] message, int field)
    {
        var found = new List<byte[]>();
        Walk(message, (number, wireType, value, bytes) =>
        {
            if (number == field && wireType == 2)
                found.Add(bytes!);
        });
        return found;
    }

    /// <summary>The varint and fixed values of the given fields, as raw 64-bit words.</summary>
    private static List<(int Field, ulong Value)> Scalars(byte[] message, params int[] fields)
    {
        var found = new List<(int, ulong)>();
        Walk(message, (number, wireType, value, _) =>
        {
            if (fields.Contains(number) && wireType != 2)
                found.Add((number, value));
        });
        return found;
    }

    private static void Walk(byte[] message, Action<int, int, ulong, byte[]?> visit)
    {
        var at = 0;
        while (at < message.Length)
        {
            var tag = Varint(message, ref at);
            var number = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    visit(number, wireType, Varint(message, ref at), null);
                    break;
                case 1:
                    visit(number, wireType, BitConverter.ToUInt64(message, at), null);
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    visit(number, wireType, 0, message[at..(at + length)]);
                    at += length;
                    break;
                case 5:
                    visit(number, wireType, BitConverter.ToUInt32(message, at), null);
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {wireType} at byte {at}");
            }
        }
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
    }

    private static string Hex(byte[]? bytes) => bytes is null || bytes.Length == 0 ? "" : Convert.ToHexStringLower(bytes);

    public void Dispose()
    {
        if (!_listener.IsListening)
            return;
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener.
        }
    }
}

/// <summary>A span as an OTLP exporter sent it (ids in lower-case hex; no parent: empty).</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, string> Attributes);
