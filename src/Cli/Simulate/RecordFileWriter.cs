using System.Text;
using HekiActors.Cli.Output;
using HekiActors.Simulation;
using HekiActors.Memory;

namespace HekiActors.Cli.Simulate;

/// <summary>Writes a run's operations to a <c>--record</c> file in the replay format, one JSON object per line.</summary>
/// <remarks>
/// The first line is a <c>#</c> comment naming the scenario, seed and profile (replay skips such lines), so a file
/// says how to reproduce it. The engine records from many actors at once, so each line is written under a lock;
/// <see cref="Dispose"/> flushes and closes the file. A write that fails (a full disk) never throws into the engine:
/// the recorder keeps the <see cref="Failure"/>, writes nothing more, and tells its owner, who stops the run.
/// </remarks>
public sealed class RecordFileWriter : ISimulationRecorder, IDisposable
{
    private readonly Lock _gate = new();
    private readonly TextWriter _writer;
    private readonly Action<OutputFailedException>? _onFailure;
    private long _lines;
    private bool _closed;
    private OutputFailedException? _failure;

    /// <summary>Creates (or truncates) <paramref name="path"/> and writes the header for this run.</summary>
    /// <param name="onFailure">Called once, from the writing thread, when a write fails.</param>
    public RecordFileWriter(string path, string scenarioName, SimulationSpec spec, Action<OutputFailedException>? onFailure = null)
        : this(new StreamWriter(new CheckedStream(OutputFile.OpenWrite(path), $"--record {path}"),
            new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16), scenarioName, spec, onFailure)
    {
        Path = path;
    }

    /// <summary>Writes to <paramref name="writer"/> (tests); the writer is closed with this recorder.</summary>
    public RecordFileWriter(TextWriter writer, string scenarioName, SimulationSpec spec, Action<OutputFailedException>? onFailure = null)
    {
        _writer = writer;
        _onFailure = onFailure;
        _writer.NewLine = "\n";
        Write(Header(scenarioName, spec));
    }

    /// <summary>The first write failure, if any; the file holds what was written before it.</summary>
    public OutputFailedException? Failure
    {
        get
        {
            lock (_gate)
            {
                return _failure;
            }
        }
    }

    /// <summary>The file written, when the recorder owns one.</summary>
    public string? Path { get; }

    /// <summary>How many operations were recorded (the header not counted).</summary>
    public long Lines
    {
        get
        {
            lock (_gate)
            {
                return _lines;
            }
        }
    }

    /// <summary>The comment line that opens a record file.</summary>
    public static string Header(string scenarioName, SimulationSpec spec) =>
        $"# heki simulate: scenario {scenarioName}, seed {spec.Seed}, profile {spec.Profile.Name()}, " +
        $"{spec.Vms} VMs x {spec.VcpusPerVm} vCPUs x {spec.MemoryMbPerVm} MiB, mbec {(spec.Mbec ? "true" : "false")}, " +
        $"{spec.Rounds} rounds; reproduce with: heki replay FILE --profile {spec.Profile.Name()}";

    public void Record(string jsonRequestLine)
    {
        lock (_gate)
        {
            // A late call after the run ended (an actor still draining) must not throw into the engine.
            if (_closed || _failure is not null)
            {
                return;
            }

            if (Write(jsonRequestLine))
            {
                _lines++;
            }
        }
    }

    /// <summary>Writes one line (the caller holds the lock or is the constructor); false once writing has failed.</summary>
    private bool Write(string line)
    {
        try
        {
            _writer.WriteLine(line);
            return true;
        }
        catch (OutputFailedException e)
        {
            _failure = e;
            _onFailure?.Invoke(e);
            return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            try
            {
                _writer.Flush();
            }
            catch (OutputFailedException e) when (_failure is null)
            {
                _failure = e;
                _onFailure?.Invoke(e);
            }
            catch (OutputFailedException)
            {
                // Already failed and reported: the buffer's tail cannot be written either.
            }

            try
            {
                _writer.Dispose();
            }
            catch (OutputFailedException)
            {
                // Flush failed just above; closing cannot do better.
            }
        }
    }
}
