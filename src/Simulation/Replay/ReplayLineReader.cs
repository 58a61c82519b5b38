using System.Buffers;

namespace HekiActors.Simulation.Replay;

/// <summary>One input line of a replay script: its 1-based number and its bytes, or why it has none.</summary>
/// <param name="Bytes">The line without its terminator; valid only until the next read (the reader reuses its buffer).</param>
/// <param name="TooLong">The line had more than the reader's maximum bytes: they were skipped, not kept.</param>
public readonly record struct ReplayInputLine(long Number, ReadOnlyMemory<byte> Bytes, bool TooLong);

/// <summary>
/// Splits a replay script into lines as bytes, with bounded memory: a line longer than <see cref="MaxLineBytes"/>
/// is reported as too long and skipped up to its end without being kept, so one endless line costs at most the
/// cap and the lines after it still run. Bytes are not decoded here: <see cref="ReplayParser"/> decodes each line
/// strictly, so invalid UTF-8 is that line's error rather than a U+FFFD that could make two VM ids one.
/// </summary>
/// <remarks>
/// Lines end at <c>\n</c>, <c>\r\n</c> or a lone <c>\r</c>, as <see cref="TextReader.ReadLine"/> splits them; a last
/// line without a terminator is still a line. A UTF-8 byte order mark at the very start is skipped.
/// </remarks>
public sealed class ReplayLineReader : IDisposable
{
    /// <summary>
    /// The longest line, in bytes: 16 MiB. The largest request a guest can make is a protect of 1,024 list pages of
    /// 169 ranges (the RFC's most) with every number at its 20-digit maximum: 14,365,764 bytes as the recorder writes
    /// it for VM sim-00000, which leaves 2.4 MB for a long VM id and extra fields.
    /// </summary>
    public const int MaxLineBytes = 16 << 20;

    private const int ChunkBytes = 64 << 10;

    private readonly Stream _input;
    private readonly int _maxLineBytes;
    private readonly byte[] _chunk;
    private byte[] _line;
    private int _chunkStart;
    private int _chunkEnd;
    private long _number;
    private bool _skipLf;
    private bool _ended;

    /// <param name="maxLineBytes">The longest line kept (tests use a small one); at most <see cref="MaxLineBytes"/> is sensible.</param>
    public ReplayLineReader(Stream input, int maxLineBytes = MaxLineBytes)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 1);
        _input = input;
        _maxLineBytes = maxLineBytes;
        _chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        _line = ArrayPool<byte>.Shared.Rent(Math.Min(maxLineBytes, 4096));
    }

    /// <summary>The next line, or null at the end of the input. An <see cref="IOException"/> from the input passes through.</summary>
    public async ValueTask<ReplayInputLine?> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_ended)
            return null;
        var length = 0;
        var tooLong = false;
        var sawAny = false;
        while (true)
        {
            if (_chunkStart == _chunkEnd)
            {
                _chunkStart = 0;
                _chunkEnd = await _input.ReadAsync(_chunk.AsMemory(0, ChunkBytes), cancellationToken).ConfigureAwait(false);
                if (_chunkEnd == 0)
                {
                    _ended = true;
                    // A last line without a terminator is a line; an input that ended with one has no empty line after it.
                    return sawAny ? Line(length, tooLong) : null;
                }
            }

            if (_skipLf)
            {
                // The \n of a \r\n that straddled two reads.
                _skipLf = false;
                if (_chunk[_chunkStart] == (byte)'\n')
                {
                    _chunkStart++;
                    continue;
                }
            }

            var available = _chunk.AsSpan(_chunkStart, _chunkEnd - _chunkStart);
            var end = available.IndexOfAny((byte)'\n', (byte)'\r');
            var piece = end < 0 ? available : available[..end];
            sawAny = true;
            if (!tooLong)
            {
                if (length + piece.Length > _maxLineBytes)
                {
                    // Keep nothing more of it: the rest is only scanned for its end.
                    tooLong = true;
                }
                else
                {
                    Append(piece, length);
                    length += piece.Length;
                }
            }

            if (end < 0)
            {
                _chunkStart = _chunkEnd;
                continue;
            }

            _chunkStart += end + 1;
            if (available[end] == (byte)'\r')
            {
                if (_chunkStart < _chunkEnd)
                {
                    if (_chunk[_chunkStart] == (byte)'\n')
                        _chunkStart++;
                }
                else
                {
                    _skipLf = true;
                }
            }

            return Line(length, tooLong);
        }
    }

    private ReplayInputLine Line(int length, bool tooLong)
    {
        var bytes = tooLong ? ReadOnlyMemory<byte>.Empty : _line.AsMemory(0, length);
        // A byte order mark opens the first line only (however the reads split it).
        if (_number == 0 && bytes.Span.StartsWith("\uFEFF"u8))
            bytes = bytes[3..];
        return new(++_number, bytes, tooLong);
    }

    private void Append(ReadOnlySpan<byte> piece, int length)
    {
        if (length + piece.Length > _line.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_maxLineBytes, Math.Max(length + piece.Length, _line.Length * 2)));
            _line.AsSpan(0, length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_line);
            _line = bigger;
        }

        piece.CopyTo(_line.AsSpan(length));
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_chunk);
        ArrayPool<byte>.Shared.Return(_line);
        _line = [];
    }
}
