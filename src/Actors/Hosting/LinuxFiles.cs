using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// The few Linux file calls .NET does not expose: statx(2) for a file's type, device and inode, and open file
/// description locks (fcntl F_OFD_SETLK, Linux 3.15+). Both have one layout on every 64-bit Linux architecture.
/// Elsewhere every call answers "not available" and callers fall back to what .NET offers.
/// </summary>
internal static class LinuxFiles
{
    /// <summary>What statx(2) says about a file.</summary>
    /// <param name="Mode">st_mode: type (<see cref="TypeMask"/>) and permission bits.</param>
    public readonly record struct Status(ulong Device, ulong Inode, uint Mode, ulong Size, uint Links)
    {
        public uint Type => Mode & TypeMask;
    }

    public const uint TypeMask = 0xF000;
    public const uint RegularFile = 0x8000;
    public const uint Directory = 0x4000;
    public const uint Fifo = 0x1000;
    public const uint CharacterDevice = 0x2000;
    public const uint BlockDevice = 0x6000;
    public const uint Socket = 0xC000;

    public static bool Available { get; } = OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int FOfdSetLk = 37;
    private const short FWrLck = 1;
    private const int SeekSet = 0;

    /// <summary>statx of <paramref name="path"/>, following symbolic links; false when it does not exist or cannot be asked.</summary>
    public static bool TryStat(string path, out Status status) => TryStat(AtFdCwd, path, 0, out status);

    /// <summary>statx of an open file descriptor (0, 1 and 2 are standard input, output and error).</summary>
    public static bool TryStat(int fd, out Status status) => TryStat(fd, "", AtEmptyPath, out status);

    private static bool TryStat(int dirFd, string path, int flags, out Status status)
    {
        status = default;
        if (!Available)
            return false;
        var buffer = new byte[256];
        try
        {
            if (statx(dirFd, path, flags, StatxBasicStats, buffer) != 0)
                return false;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }

        // struct statx (linux/stat.h), native byte order: nlink u32 @16, mode u16 @28, ino u64 @32, size u64 @40,
        // dev_major/minor u32 @136/@140.
        var span = buffer.AsSpan();
        var device = ((ulong)MemoryMarshal.Read<uint>(span[136..]) << 32) | MemoryMarshal.Read<uint>(span[140..]);
        status = new Status(device, MemoryMarshal.Read<ulong>(span[32..]), MemoryMarshal.Read<ushort>(span[28..]), MemoryMarshal.Read<ulong>(span[40..]),
            MemoryMarshal.Read<uint>(span[16..]));
        return true;
    }

    /// <summary>The outcome of <see cref="TryLockExclusive"/>.</summary>
    public enum LockResult
    {
        Locked,
        HeldByAnother,
        Unsupported,
    }

    /// <summary>
    /// Takes an exclusive open-file-description lock on the whole file without waiting. The lock belongs to this open
    /// file (not to the process), so it conflicts with any other opening, in this process or another, and the kernel
    /// drops it when the file is closed or the process dies.
    /// </summary>
    public static LockResult TryLockExclusive(SafeFileHandle file, out int errno)
    {
        errno = 0;
        if (!Available)
            return LockResult.Unsupported;
        var request = new Flock { Type = FWrLck, Whence = SeekSet, Start = 0, Length = 0 };
        try
        {
            if (fcntl((int)file.DangerousGetHandle(), FOfdSetLk, ref request) == 0)
                return LockResult.Locked;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return LockResult.Unsupported;
        }

        errno = Marshal.GetLastPInvokeError();
        // EAGAIN/EACCES: someone holds it. EINVAL: a kernel without OFD locks. Anything else: the file system cannot lock.
        return errno is 11 or 13 ? LockResult.HeldByAnother : LockResult.Unsupported;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, uint mask, byte[] statxbuf);

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, ref Flock lockRequest);
}
