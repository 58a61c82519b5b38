using System.Runtime.InteropServices;

namespace HekiActors.Cli.Input;

/// <summary>
/// Whether standard input was closed when heki started (<c>heki replay &lt;&amp;-</c>). The runtime opens descriptors of
/// its own at start (a pipe for its signal handling), and the first lands on the free descriptor 0: reading "standard
/// input" would then wait on the runtime's own pipe forever. Every descriptor the runtime opens is close-on-exec, and an
/// inherited standard input never is (exec would have closed it), so descriptor 0 with FD_CLOEXEC set, or none, means
/// there was no standard input.
/// </summary>
internal static class StandardInputCheck
{
    private const int FGetFd = 1;
    private const int FdCloExec = 1;

    /// <summary>Why standard input cannot be read, or null when it can (always null outside Linux).</summary>
    public static string? Problem()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        var flags = fcntl(0, FGetFd);
        if (flags < 0)
            return "it is closed";
        return (flags & FdCloExec) != 0 ? "it was closed when heki started" : null;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd);
}
