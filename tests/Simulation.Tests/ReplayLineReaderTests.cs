using System.Text;
using HekiActors.Memory;
using HekiActors.Memory.Hypercalls;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests;

/// <summary>issue 8, items 9 and 10: replay input is split into byte lines with a length limit and decoded strictly.</summary>
public sealed class ReplayLineReaderTests
{
    private static async Task<List<(long Number, string Text, bool TooLong)>> Lines(Stream input, int maxLineBytes = ReplayLineReader.MaxLineBytes)
    {
        using var reader = new ReplayLineReader(input, maxLineBytes);
        var lines = new List<(long, string, bool)>();
        while (await reader.ReadAsync() is { } line)
            lines.Add((line.Number, Encoding.UTF8.GetString(line.Bytes.Span), line.TooLong));
        return lines;
    }

    private static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("a\nb\n", new[] { "a", "b" })]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\r\nb\r\n", new[] { "a", "b" })]
    [InlineData("a\rb\r\n\r\nc", new[] { "a", "b", "", "c" })]
    [InlineData("\n\n", new[] { "", "" })]
    [InlineData("", new string[0])]
    [InlineData("\uFEFFa\n", new[] { "a" })]
    [InlineData("a\uFEFF\n", new[] { "a\uFEFF" })]
    public async Task Lines_end_where_TextReader_ReadLine_ends_them(string text, string[] expected)
    {
        var lines = await Lines(Bytes(text));

        Assert.Equal(expected, lines.Select(l => l.Text));
        Assert.Equal(Enumerable.Range(1, expected.Length).Select(n => (long)n), lines.Select(l => l.Number));
        // Same split as the reader it replaces, one byte at a time or all at once.
        Assert.Equal(expected, await Lines(new TrickleStream(Encoding.UTF8.GetBytes(text))).ContinueWith(t => t.Result.Select(l => l.Text)));
    }

    [Fact]
    public async Task A_line_over_the_limit_is_reported_too_long_and_the_next_line_is_read()
    {
        var lines = await Lines(Bytes("short\n" + new string('x', 25) + "\r\nnext\n" + new string('y', 10) + "\n"), maxLineBytes: 10);

        Assert.Equal([(1L, "short", false), (2L, "", true), (3L, "next", false), (4L, new string('y', 10), false)], lines);
    }

    [Fact]
    public async Task A_gigabyte_line_is_skipped_in_bounded_memory()
    {
        // 1.2 GB without a newline, then a request: only the request's line is kept.
        var input = new ConcatStream(new RepeatingStream((byte)'x', 1_200_000_000), Encoding.UTF8.GetBytes("\n{\"op\":\"read_cr\"}\n"));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var lines = await Lines(input);

        Assert.Equal([(1L, "", true), (2L, "{\"op\":\"read_cr\"}", false)], lines);
        // At most the 16 MiB line buffer (grown by doubling) and a 64 KiB chunk: never the line itself.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 48L << 20, $"{GC.GetAllocatedBytesForCurrentThread() - before:N0} bytes");
    }

    [Fact]
    public void The_largest_request_a_guest_can_make_fits_in_a_line()
    {
        // PROTECT_MEMORY's most: 1,024 list pages of 169 ranges, every number at its 20-digit maximum.
        var range = new MemoryRange(ulong.MaxValue, ulong.MaxValue, ulong.MaxValue);
        var pages = Enumerable.Range(0, ProtectMemory.MaxListPages)
            .Select(_ => Enumerable.Repeat(range, ProtectMemory.MaxRangesPerPage).ToArray()).ToArray();
        var request = new ProtectRequest("sim-00000", VmConfig.MaxVcpus - 1, pages, 3);

        var line = ReplayLines.Format(request);

        // The figure docs/replay-format.md gives: 2.4 MB below the limit.
        Assert.Equal(14_365_764, Encoding.UTF8.GetByteCount(line));
        Assert.True(ReplayLineReader.MaxLineBytes - 14_365_764 > 2_400_000);
        var parsed = ReplayParser.Parse(Encoding.UTF8.GetBytes(line));
        Assert.Null(parsed.Error);
        var protect = Assert.IsType<ProtectRequest>(parsed.Request);
        Assert.Equal(ProtectMemory.MaxListPages, protect.ListPages.Length);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, "line is not valid UTF-8 (byte 0xFF at byte 41)")]
    [InlineData(new byte[] { 0xFE }, "line is not valid UTF-8 (byte 0xFE at byte 41)")]
    [InlineData(new byte[] { 0xC0, 0x80 }, "line is not valid UTF-8 (byte 0xC0 at byte 41)")]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "line is not valid UTF-8 (byte 0xED at byte 41)")]
    [InlineData(new byte[] { 0xE2, 0x82 }, "line is not valid UTF-8 (byte 0xE2 at byte 41)")]
    public void A_VM_id_with_invalid_UTF8_is_an_error_for_its_line(byte[] bad, string expected)
    {
        byte[] line = [.. "{\"op\":\"create_vm\",\"memory_mb\":64,\"vm\":\"b"u8, .. bad, .. "\",\"vcpus\":1}"u8];

        Assert.Equal(expected, ReplayParser.Parse(line).Error);
    }

    [Fact]
    public void Ids_are_exact_UTF8_text_never_replaced()
    {
        var latin = ReplayParser.Parse("{\"op\":\"destroy_vm\",\"vm\":\"b\u00ff\"}"u8.ToArray());
        var replacement = ReplayParser.Parse("{\"op\":\"destroy_vm\",\"vm\":\"b\uFFFD\"}"u8.ToArray());

        Assert.Equal(new DestroyVmRequest("b\u00ff"), latin.Request);
        Assert.Equal(new DestroyVmRequest("b\uFFFD"), replacement.Request);
        Assert.NotEqual(latin.Request, replacement.Request);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("  \t", true)]
    [InlineData("# comment \u00ff", true)]
    [InlineData("\u00a0\u2028# unicode space", true)]
    [InlineData(" {\"op\":1}", false)]
    public void Skipped_lines_are_the_same_in_bytes_as_in_text(string line, bool skipped)
    {
        Assert.Equal(skipped, ReplayParser.IsSkipped(Encoding.UTF8.GetBytes(line)));
        Assert.Equal(skipped, ReplayParser.IsSkipped(line));
    }

    [Fact]
    public void A_comment_is_skipped_whatever_bytes_follow_the_hash()
    {
        Assert.True(ReplayParser.IsSkipped([(byte)' ', (byte)'#', 0xFF, 0xFE]));
        Assert.False(ReplayParser.IsSkipped([0xFF, (byte)'#']));
    }

    /// <summary>Returns one byte per read: every boundary (a \r\n, a multi-byte character) is split once.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
    }
}

/// <summary>A forward-only stream that only reads: subclasses say what <see cref="Read(Span{byte})"/> gives.</summary>
internal abstract class ReadOnlyStream : Stream
{
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public abstract override int Read(Span<byte> buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A read-only stream of <paramref name="length"/> copies of one byte, made as it is read.</summary>
internal sealed class RepeatingStream(byte value, long length) : ReadOnlyStream
{
    private long _left = length;

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, _left);
        buffer[..n].Fill(value);
        _left -= n;
        return n;
    }
}

/// <summary>One stream, then some bytes.</summary>
internal sealed class ConcatStream(Stream first, byte[] then) : ReadOnlyStream
{
    private readonly MemoryStream _then = new(then);

    public override int Read(Span<byte> buffer)
    {
        var n = first.Read(buffer);
        return n > 0 ? n : _then.Read(buffer);
    }
}
