using System.Text;
using CsCheck;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Simulation.Replay;
using HekiActors.Tests.Shared;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// issue 8: the replay parser and line reader answer every input. 10,000 random and 10,000 mutated lines each: no
/// exception escapes, every line is exactly a request or one error message, and the memory a line costs is bounded
/// by its size (allocated bytes, which do not depend on the machine's speed).
/// </summary>
public sealed class ReplayInputPropertyTests
{
    private const int Iterations = 10_000;

    /// <summary>The replay format's own tokens, for random and mutated lines.</summary>
    private static readonly string[] Syntax =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\udfff", "\\u0000", "true", "false", "null", " ", "#",
        "\"op\"", "\"vm\"", "\"create_vm\"", "\"protect\"", "\"ranges\"", "\"list_pages\"", "\"pa\"", "\"epa\"", "\"perm\"",
        "\"vcpu\"", "\"cpl\"", "\"kind\"", "\"exec\"", "\"cr\"", "\"gfn\"", "\"memory_mb\"", "\"vcpus\"", "\u00e9", "\U0001F600",
    ];

    private static readonly Gen<string> VmId = Gen.OneOf(Gen.Const("a"), Gen.Const("sim-00001"), Gen.String[Gen.Char['\u0020', '\uD7FF'], 0, 12]);
    private static readonly Gen<ulong> Number = Gen.OneOf(Gen.ULong, Gen.ULong[0, 1 << 20], Gen.Const(ulong.MaxValue));
    private static readonly Gen<int> Vcpu = Gen.Int[0, VmConfig.MaxVcpus - 1];
    private static readonly Gen<byte> Cpl = Gen.Byte[0, 3];

    private static readonly Gen<MemoryRange[][]> ListPages =
        Gen.Select(Number, Number, Gen.ULong[0, 15], (pa, epa, perm) => new MemoryRange(pa, epa, perm)).Array[0, 5].Array[0, 3];

    /// <summary>Every op, with fields across their whole ranges.</summary>
    private static readonly Gen<ReplayRequest> Request = Gen.OneOf<ReplayRequest>(
        Gen.Select(VmId, Gen.ULong[1, VmConfig.MaxMemoryMb], Gen.Int[1, VmConfig.MaxVcpus], Gen.Bool, Gen.Bool,
            (vm, mb, vcpus, mbec, priv) => new CreateVmRequest(vm, mb, vcpus, mbec, priv)),
        VmId.Select(vm => new DestroyVmRequest(vm)),
        Gen.Select(VmId, Vcpu, ListPages, Cpl, (vm, v, pages, cpl) => new ProtectRequest(vm, v, pages, cpl)),
        Gen.Select(VmId, Number, Number, Number, (vm, s, e, a) => new SetPermissionsRequest(vm, s, e, a)),
        Gen.Select(VmId, Number, (vm, g) => new GetPermissionsRequest(vm, g)),
        Gen.Select(VmId, Number, Number, Number, Number, (vm, a, s, at, f) => new SetMemoryAttributesRequest(vm, a, s, at, f)),
        Gen.Select(VmId, Number, (vm, g) => new GetMemoryAttributesRequest(vm, g)),
        Gen.Select(VmId, Vcpu, Number, Gen.Enum<AccessKind>(), Cpl, (vm, v, gpa, kind, cpl) => new AccessRequest(vm, v, gpa, kind, cpl)),
        Gen.Select(VmId, Vcpu, Number, Number, Number, (vm, v, cr, pin, f) => new LockCrRequest(vm, v, cr, pin, f)),
        Gen.Select(VmId, Vcpu, Gen.Int[0, 15], Number, (vm, v, cr, value) => new WriteCrRequest(vm, v, cr, value)),
        Gen.Select(VmId, Vcpu, Gen.Int[0, 15], (vm, v, cr) => new ReadCrRequest(vm, v, cr)));

    private static readonly byte[][] Corpus = Request.Array[200].Single(_ => true, seed: "0N0XIzNsQ0O2")
        .Select(r => Encoding.UTF8.GetBytes(ReplayLines.Format(r))).ToArray();

    [Fact]
    public void Every_valid_request_line_parses_back_to_itself()
    {
        Request.Sample(request =>
        {
            var line = ReplayLines.Format(request);
            var parsed = ReplayParser.Parse(Encoding.UTF8.GetBytes(line));

            Assert.Null(parsed.Error);
            Assert.Equal(line, ReplayLines.Format(parsed.Request!));
        }, iter: Iterations);
    }

    [Fact]
    public void Random_lines_get_a_request_or_one_error_in_bounded_memory() =>
        InputMutations.Random(Syntax).Sample(AnswersOnce, iter: Iterations);

    [Fact]
    public void Mutated_lines_get_a_request_or_one_error_in_bounded_memory() =>
        InputMutations.Mutated(Corpus, Syntax).Sample(AnswersOnce, iter: Iterations);

    [Fact]
    public void Mutated_scripts_split_into_lines_as_TextReader_would_and_each_line_is_answered()
    {
        // Whole scripts (several lines, mutated across line boundaries), through the reader with a small line limit.
        var scripts = Gen.Int[0, Corpus.Length - 1].Array[1, 6]
            .Select(picks => picks.SelectMany(i => (byte[])[.. Corpus[i], (byte)'\n']).ToArray()).Array[50].Single(_ => true, seed: "0N0XIzNsQ0O2");
        Gen.Select(InputMutations.Mutated(scripts, Syntax), Gen.Int[1, 4096], Gen.Int[1, 70_000]).Sample((script, maxLine, chunk) =>
        {
            var expected = ReferenceLines(script);
            using var reader = new ReplayLineReader(new ChunkedStream(script, chunk), maxLine);
            var lines = new List<ReplayInputLine>();
            while (reader.ReadAsync().AsTask().GetAwaiter().GetResult() is { } line)
            {
                lines.Add(line);
                if (!line.TooLong)
                    Assert.Equal(expected[lines.Count - 1], line.Bytes.ToArray());
                if (!line.TooLong && !ReplayParser.IsSkipped(line.Bytes.Span))
                    AnswersOnce(line.Bytes.ToArray());
            }

            Assert.Equal(expected.Count, lines.Count);
            Assert.All(lines, (line, i) => Assert.Equal(expected[i].Length > maxLine, line.TooLong));
        }, iter: Iterations);
    }

    [Fact]
    public void A_name_with_a_decoded_control_character_is_quoted_with_json_escapes_on_one_line()
    {
        // Found by the property above (seed 7O_Iv6HSIX61): "op":"io\ns" decoded to a real newline inside the message.
        var parsed = ReplayParser.Parse("{\"op\":\"io\\ns\\u0001\"}"u8.ToArray());
        Assert.Equal("unknown op \"io\\ns\\u0001\"", parsed.Error);
    }

    /// <summary>The properties every line's answer has.</summary>
    private static void AnswersOnce(byte[] line)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var parsed = ReplayParser.Parse(line);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(parsed.Request is null != parsed.Error is null, "exactly one of a request and an error");
        if (parsed.Error is { } error)
        {
            // One line of output that names the problem and quotes no more than an excerpt of the input.
            Assert.InRange(error.Length, 10, 300);
            Assert.DoesNotContain('\n', error);
        }

        // JsonDocument's index and the request's arrays: a small multiple of the line, never the line times its depth.
        Assert.True(allocated <= 64 * 1024 + 48L * line.Length, $"{allocated:N0} bytes allocated for a {line.Length:N0}-byte line");
    }

    /// <summary>The lines <see cref="TextReader.ReadLine"/> would give, as bytes (the reader also drops a leading BOM).</summary>
    private static List<byte[]> ReferenceLines(byte[] script)
    {
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < script.Length; i++)
        {
            if (script[i] is not ((byte)'\r' or (byte)'\n'))
                continue;
            lines.Add(script[start..i]);
            if (script[i] == (byte)'\r' && i + 1 < script.Length && script[i + 1] == (byte)'\n')
                i++;
            start = i + 1;
        }

        if (start < script.Length)
            lines.Add(script[start..]);
        if (lines.Count > 0 && lines[0].AsSpan().StartsWith("\uFEFF"u8))
            lines[0] = lines[0][3..];
        return lines;
    }

    /// <summary>Returns at most <paramref name="chunk"/> bytes per read, so line ends fall on every kind of read boundary.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : MemoryStream(bytes)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
