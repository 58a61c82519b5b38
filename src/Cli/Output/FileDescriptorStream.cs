using System.Runtime.InteropServices;

namespace HekiActors.Cli.Output;

/// <summary>
/// Writes straight to a Unix file descriptor with write(2), reporting every failure (EPIPE included) as an
/// <see cref="IOException"/> in the system's words.
/// </summary>
/// <remarks>
/// Not a FileStream: on a regular file FileStream keeps its own offset and writes with pwrite, so standard output and
/// error sent to one file (<c>&gt;log 2&gt;&amp;1</c>) would overwrite each other; write(2) appends at the shared offset as
/// a shell expects. Not the console stream either: on Unix it drops EPIPE silently.
/// </remarks>
public sealed class FileDescriptorStream(int fd) : Stream
{
    private const int EINTR = 4;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var written = 0;
            while (written < buffer.Length)
            {
                var n = write(fd, start + written, (nint)(buffer.Length - written));
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR)
                        continue;
                    throw new IOException(Marshal.GetPInvokeErrorMessage(errno), errno);
                }

                written += (int)n;
            }
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe nint write(int fd, byte* buffer, nint count);
}
