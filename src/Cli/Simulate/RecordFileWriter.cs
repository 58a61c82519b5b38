using System.Text;
using HekiActors.Simulation;
using HekiActors.Memory;

namespace HekiActors.Cli.Simulate;

/// <summary>Writes a run's operations to a <c>--record</c> file in the replay format, one JSON object per line.</summary>
/// <remarks>
/// The first line is a <c>#</c> comment naming the scenario, seed and profile (replay skips such lines), so a file
/// says how to reproduce it. The engine records from many actors at once, so each line is written under a lock;
/// <see cref="Dispose"/> flushes and closes the file.
/// </remarks>
public sealed class RecordFileWriter : ISimulationRecorder, IDisposable
{
    private readonly Lock _gate = new();
    private readonly TextWriter _writer;
    private long _lines;
    private bool _closed;

    /// <summary>Creates (or truncates) <paramref name="path"/> and writes the header for this run.</summary>
    public RecordFileWriter(string path, string scenarioName, SimulationSpec spec)
        : this(new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16), scenarioName, spec)
    {
        Path = path;
    }

    /// <summary>Writes to <paramref name="writer"/> (tests); the writer is closed with this recorder.</summary>
    public RecordFileWriter(TextWriter writer, string scenarioName, SimulationSpec spec)
    {
        _writer = writer;
        _writer.NewLine = "\n";
        _writer.WriteLine(Header(scenarioName, spec));
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
            if (_closed)
            {
                return;
            }

            _writer.WriteLine(jsonRequestLine);
            _lines++;
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
            _writer.Flush();
            _writer.Dispose();
        }
    }
}
