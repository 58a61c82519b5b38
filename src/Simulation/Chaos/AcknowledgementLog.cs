using System.Text;
using System.Text.Json;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// What a chaos run was told, kept outside its process so that a run killed with SIGKILL can be continued and checked
/// (docs/chaos.md, "Killing the process"): one JSON line per acknowledged operation, written before the VM's next
/// operation is sent, and one per injected fault and per process start. Each line is handed to the operating system
/// when written, so a killed process loses at most the line it was writing (a cut last line is ignored when read).
/// </summary>
/// <remarks>
/// Line shapes: <c>{"start":K}</c> (the K-th process of the run began), <c>{"fault":"drop_reply"}</c>, and
/// <c>{"vm":I,"n":N,"request":{replay line},"result":{field}}</c> (with <c>"probe":true</c> for a read-back after a
/// restart) where the request is a replay-format line and the
/// result holds the one replay result field (<c>ok</c>, <c>ret</c> with <c>host_integrity_faults</c>, <c>attr</c>,
/// <c>attributes</c>, <c>result</c>, <c>value</c> or <c>error</c>).
/// </remarks>
public sealed class AcknowledgementLog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly StreamWriter _writer;

    private AcknowledgementLog(string path)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false))
        {
            AutoFlush = true,
        };
    }

    /// <summary>An acknowledged operation: VM <paramref name="Vm"/>'s <paramref name="Operation"/>-th (from 1).</summary>
    /// <param name="Probe">A read-back after a restart (<c>"probe":true</c>), not an operation of the workload.</param>
    public sealed record Entry(int Vm, long Operation, ReplayRequest Request, ReplayResult Result, bool Probe = false);

    /// <summary>What a log holds: its operations in order, the faults injected, and how many processes it saw start.</summary>
    public sealed record Contents(IReadOnlyList<Entry> Operations, IReadOnlyDictionary<FaultKind, long> Faults, int Starts);

    /// <summary>Opens <paramref name="path"/> for appending (created when absent).</summary>
    public static AcknowledgementLog Open(string path) => new(path);

    public void Started(int process) => Write(json => json.WriteNumber("start", process));

    public void Injected(FaultKind kind) => Write(json => json.WriteString("fault", kind.Name()));

    public void Acknowledged(int vm, long operation, ReplayRequest request, ReplayResult result, bool probe = false) => Write(json =>
    {
        json.WriteNumber("vm", vm);
        json.WriteNumber("n", operation);
        if (probe)
            json.WriteBoolean("probe", true);
        json.WritePropertyName("request");
        json.WriteRawValue(ReplayLines.Format(request));
        json.WriteStartObject("result");
        ReplayOutput.WriteResult(json, result);
        json.WriteEndObject();
    });

    /// <summary>The complete lines of <paramref name="path"/> (empty when it does not exist).</summary>
    /// <exception cref="InvalidDataException">A complete line is not one this log writes.</exception>
    public static Contents Read(string path)
    {
        var operations = new List<Entry>();
        var faults = FaultKinds.All.ToDictionary(k => k, _ => 0L);
        var starts = 0;
        if (!File.Exists(path))
            return new Contents(operations, faults, starts);
        var text = File.ReadAllText(path);
        // The piece after the last line end is a line the killed process was still writing.
        var lines = text.Split('\n')[..^1];
        for (var i = 0; i < lines.Length; i++)
        {
            try
            {
                using var document = JsonDocument.Parse(lines[i]);
                var root = document.RootElement;
                if (root.TryGetProperty("start", out _))
                {
                    starts++;
                }
                else if (root.TryGetProperty("fault", out var fault))
                {
                    if (!FaultKinds.TryParse(fault.GetString() ?? "", out var kind))
                        throw new InvalidDataException($"unknown fault kind '{fault.GetString()}'");
                    faults[kind]++;
                }
                else
                {
                    var parsed = ReplayParser.Parse(root.GetProperty("request").GetRawText());
                    if (parsed.Request is not { } request)
                        throw new InvalidDataException(parsed.Error);
                    operations.Add(new Entry(root.GetProperty("vm").GetInt32(), root.GetProperty("n").GetInt64(), request,
                        ReadResult(root.GetProperty("result")), root.TryGetProperty("probe", out _)));
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a chaos acknowledgement line: {e.Message}", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: {e.Message}", e);
            }
        }

        return new Contents(operations, faults, starts);
    }

    public void Dispose()
    {
        lock (_gate)
            _writer.Dispose();
    }

    private void Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        var line = Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
        lock (_gate)
            _writer.Write(line);
    }

    private static ReplayResult ReadResult(JsonElement result)
    {
        if (result.TryGetProperty("ok", out _))
            return OkResult.Instance;
        if (result.TryGetProperty("ret", out var ret))
            return new RetResult(ret.GetInt64(), result.TryGetProperty("host_integrity_faults", out var faults) ? faults.GetInt32() : 0);
        if (result.TryGetProperty("attr", out var attr))
            return new AttrResult(attr.GetUInt64());
        if (result.TryGetProperty("attributes", out var attributes))
            return new AttributesResult(attributes.GetUInt64());
        if (result.TryGetProperty("result", out var outcome))
            return new OutcomeResult(outcome.GetString()!);
        if (result.TryGetProperty("value", out var value))
            return new ValueResult(value.GetUInt64());
        if (result.TryGetProperty("error", out var error))
            return new ErrorResult(error.GetString()!);
        throw new InvalidDataException("a result without a result field");
    }
}
