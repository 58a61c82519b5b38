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
public sealed class FileDescriptorStream(int fd) : WriteOnlyStream
{
    private const int EINTR = 4;

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

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe nint write(int fd, byte* buffer, nint count);
}
