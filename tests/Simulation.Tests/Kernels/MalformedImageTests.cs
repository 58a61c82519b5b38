using System.Buffers.Binary;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>
/// Bad kernel images and modules are refused with one message that names the file and what is wrong, within
/// bounded memory (allocations are counted, which unlike time is deterministic) and therefore bounded time: no
/// reader decompresses past the declared size or the limit, or allocates what a header claims before checking it.
/// </summary>
[Collection(DebianKernelCollection.Name)]
public sealed class MalformedImageTests(DebianKernelFixture kernel) : IDisposable
{
    private const long OneMiB = 1 << 20;
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void An_xz_bomb_whose_appended_size_lies_is_refused_after_the_declared_bytes()
    {
        var path = _folder.Write("vmlinuz-bomb", KernelImageBuilder.BzImage(KernelImageBuilder.XzBomb(), (uint)OneMiB));

        var (error, allocated) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("xz payload decompresses to more than the 1048576 bytes it declares", error, StringComparison.Ordinal);
        Assert.True(allocated < 48 * OneMiB, $"allocated {allocated} bytes for a 1 MiB declaration");
    }

    [Fact]
    public void An_xz_bomb_declaring_more_than_the_limit_is_refused_before_decompressing()
    {
        var path = _folder.Write("vmlinuz-huge", KernelImageBuilder.BzImage(KernelImageBuilder.XzBomb(), uint.MaxValue));

        var (error, allocated) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("declares 4294967295 decompressed bytes, more than the limit of 536870912", error, StringComparison.Ordinal);
        Assert.True(allocated < OneMiB, $"allocated {allocated} bytes without decompressing anything");
    }

    [Fact]
    public void An_xz_bomb_that_tells_its_size_is_refused_when_that_size_is_over_the_limit()
    {
        var path = _folder.Write("vmlinuz-64m", KernelImageBuilder.BzImage(KernelImageBuilder.XzBomb(), 64 * (uint)OneMiB));

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default with { MaxDecompressedBytes = 16 * OneMiB });

        Assert.Contains("declares 67108864 decompressed bytes, more than the limit of 16777216", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gzip_bomb_whose_appended_size_lies_is_refused_after_the_declared_bytes()
    {
        var bomb = KernelImageBuilder.Gzip(new byte[64 * OneMiB]);
        var path = _folder.Write("vmlinuz-gzip-bomb", KernelImageBuilder.BzImage(bomb, (uint)OneMiB));

        var (error, allocated) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("gzip payload decompresses to more than the 1048576 bytes it declares", error, StringComparison.Ordinal);
        Assert.True(allocated < 8 * OneMiB, $"allocated {allocated} bytes for a 1 MiB declaration");
    }

    [Fact]
    public void A_compressed_module_that_grows_past_the_limit_is_refused()
    {
        var path = _folder.Write("bomb.ko.xz", KernelImageBuilder.XzBomb());

        Assert.False(KernelImageReader.TryReadModule(path, KernelImageLimits.Default with { MaxFileBytes = 4 * OneMiB }, out _, out var error));

        Assert.StartsWith(path + ": ", error, StringComparison.Ordinal);
        Assert.Contains("decompresses to more than the limit of 4194304 bytes", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_bzImage_cut_short_is_refused_as_truncated()
    {
        var image = File.ReadAllBytes(DebianKernelPackage.BzImage);
        var path = _folder.Write("vmlinuz-half", image[..(image.Length / 2)]);

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("truncated: the setup header puts the payload at bytes 21196..8130344 but the file has 4117472 bytes", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_bzImage_whose_xz_stream_stops_half_way_is_refused()
    {
        var image = File.ReadAllBytes(DebianKernelPackage.BzImage);
        var payload = BzPayload(image);
        // Half the xz stream, with the header's length and the appended size kept consistent around it.
        var path = _folder.Write("vmlinuz-half-stream",
            KernelImageBuilder.BzImage(payload.Stream[..(payload.Stream.Length / 2)], payload.Declared));

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Matches("truncated: its xz payload ends after|its xz data is corrupt", error);
    }

    [Fact]
    public void A_bzImage_too_short_for_its_setup_header_is_refused()
    {
        var image = KernelImageBuilder.BzImage(KernelImageBuilder.Gzip([1, 2, 3]), 3);
        var shortHeader = _folder.Write("vmlinuz-530", image[..530]);
        Assert.Equal(shortHeader + ": truncated: 530 bytes, shorter than a bzImage setup header", RefusedKernel(shortHeader, KernelImageLimits.Default).Error);

        var shortSetup = _folder.Write("vmlinuz-700", image[..700]);
        Assert.Equal(shortSetup + ": truncated: the setup header's setup_sects (1) puts the kernel at byte 1024 but the file has 700 bytes",
            RefusedKernel(shortSetup, KernelImageLimits.Default).Error);
    }

    [SkippableFact]
    public void A_vmlinux_cut_short_is_refused_as_truncated()
    {
        var path = _folder.Write("vmlinux-1m", kernel.Vmlinux[..(int)OneMiB]);

        var (error, allocated) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("truncated: its 39 section headers need bytes 0x3e001b0..0x3e00b70 but the file has 1048576 bytes", error, StringComparison.Ordinal);
        Assert.True(allocated < OneMiB, $"allocated {allocated} bytes");
    }

    [SkippableFact]
    public void A_module_cut_short_is_refused_as_truncated()
    {
        var module = File.ReadAllBytes(SomeModule());
        // Cut inside the section header table (the last 721 bytes are the appended module signature, which the
        // layout does not need, so a module cut there still reads).
        var path = _folder.Write("af_key.ko", module[..(module.Length - 1000)]);

        Assert.False(KernelImageReader.TryReadModule(path, KernelImageLimits.Default, out _, out var error));

        Assert.StartsWith(path + ": truncated: its 47 section headers need bytes", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_module_claiming_a_2_GiB_string_table_is_refused_without_allocating_it()
    {
        var module = File.ReadAllBytes(SomeModule());
        var table = (int)BinaryPrimitives.ReadUInt64LittleEndian(module.AsSpan(0x28));
        var names = BinaryPrimitives.ReadUInt16LittleEndian(module.AsSpan(0x3e));
        var path = _folder.Write("af_key.ko", KernelImageBuilder.Patched(module,
            m => BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(table + (names * 64) + 0x20), 0x7fff_0000)));

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(KernelImageReader.TryReadModule(path, KernelImageLimits.Default, out _, out var error));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.StartsWith(path + ": truncated: section header 46 of 47 needs bytes", error, StringComparison.Ordinal);
        Assert.True(allocated < 2 * OneMiB, $"allocated {allocated} bytes for a 100 KB module");
    }

    [Fact]
    public void A_file_that_is_neither_a_bzImage_nor_an_ELF_is_refused()
    {
        var path = _folder.Write("notes.txt", string.Concat(Enumerable.Repeat("just some text, not a kernel\n", 100)));

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("neither a bzImage (no \"HdrS\" boot-protocol header at 0x202) nor an ELF vmlinux", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bzImage_whose_payload_is_not_an_ELF_is_refused()
    {
        var text = "this is not an ELF file at all, but it is long enough to be a header"u8.ToArray();
        var path = _folder.Write("vmlinuz-text", KernelImageBuilder.BzImage(KernelImageBuilder.Gzip(text), (uint)text.Length));

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("not an ELF file", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_module_that_is_not_an_ELF_is_refused()
    {
        var path = _folder.Write("fake.ko", "not an object file");

        Assert.False(KernelImageReader.TryReadModule(path, KernelImageLimits.Default, out _, out var error));

        Assert.Equal(path + ": not an ELF file (no \\x7fELF magic)", error);
    }

    [Fact]
    public void A_payload_compressed_with_a_method_the_tool_cannot_read_is_refused_by_name()
    {
        var path = _folder.Write("vmlinuz-bzip2", KernelImageBuilder.BzImage("BZh91AY&SY not really"u8.ToArray(), 4096));

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("compressed with bzip2, which this tool cannot read (supported: xz, gzip, zstd, none)", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_module_for_another_architecture_is_refused_as_the_wrong_architecture()
    {
        // e_machine 183: EM_AARCH64.
        var path = _folder.Write("arm64.ko", KernelImageBuilder.Patched(File.ReadAllBytes(SomeModule()),
            m => BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(0x12), 183)));

        Assert.False(KernelImageReader.TryReadModule(path, KernelImageLimits.Default, out _, out var error));

        Assert.Equal(path + ": an ELF for aarch64 (arm64), not x86-64: wrong architecture", error);
    }

    [SkippableFact]
    public void A_bzImage_holding_a_vmlinux_for_another_architecture_is_refused_as_the_wrong_architecture()
    {
        var arm = KernelImageBuilder.Patched(kernel.Vmlinux, v => BinaryPrimitives.WriteUInt16LittleEndian(v.AsSpan(0x12), 183));
        var path = _folder.Write("vmlinuz-arm64", KernelImageBuilder.BzImage(KernelImageBuilder.Gzip(arm), (uint)arm.Length));

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("an ELF for aarch64 (arm64), not x86-64: wrong architecture", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_32_bit_vmlinux_is_refused_as_the_wrong_architecture()
    {
        var path = _folder.Write("vmlinux-32", KernelImageBuilder.Patched(kernel.Vmlinux[..(int)(4 * OneMiB)], v => v[4] = 1));

        var (error, _) = RefusedKernel(path, KernelImageLimits.Default);

        Assert.Contains("a 32-bit ELF: wrong architecture", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_module_given_as_the_kernel_and_a_vmlinux_given_as_a_module_are_refused_by_type()
    {
        var module = SomeModule();
        Assert.False(KernelImageReader.TryReadKernel(module, KernelImageLimits.Default, out _, out var error));
        Assert.Equal(module + ": an ELF of type REL (a relocatable object such as a .ko module), expected EXEC (an executable such as a vmlinux)", error);

        var vmlinux = _folder.Write("vmlinux.ko", kernel.Vmlinux);
        Assert.False(KernelImageReader.TryReadModule(vmlinux, KernelImageLimits.Default, out _, out error));
        Assert.Contains("an ELF of type EXEC (an executable such as a vmlinux), expected REL", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_an_empty_file_and_a_folder_are_refused_by_name()
    {
        var missing = Path.Combine(_folder.Path, "absent");
        Assert.False(KernelImageReader.TryReadKernel(missing, KernelImageLimits.Default, out _, out var error));
        Assert.Equal(missing + ": no such file", error);

        var empty = _folder.Write("empty", []);
        Assert.False(KernelImageReader.TryReadKernel(empty, KernelImageLimits.Default, out _, out error));
        Assert.StartsWith(empty + ": neither a bzImage", error, StringComparison.Ordinal);

        Assert.False(KernelImageReader.TryReadModule(_folder.Path, KernelImageLimits.Default, out _, out error));
        Assert.Equal(_folder.Path + ": is a directory, not a file", error);
    }

    private static (string Error, long Allocated) RefusedKernel(string path, KernelImageLimits limits)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(KernelImageReader.TryReadKernel(path, limits, out var image, out var error));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Null(image);
        Assert.StartsWith(path + ": ", error, StringComparison.Ordinal);
        return (error, allocated);
    }

    private static string SomeModule()
    {
        DebianKernelPackage.Require();
        return Path.Combine(DebianKernelPackage.Modules, "kernel", "net", "key", "af_key.ko");
    }

    /// <summary>The xz stream of a real bzImage and the size appended after it.</summary>
    private static (byte[] Stream, uint Declared) BzPayload(byte[] image)
    {
        var start = ((image[0x1f1] == 0 ? 4 : image[0x1f1]) + 1) * 512 + (int)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(0x248));
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(0x24c));
        return (image[start..(start + length - 4)], BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(start + length - 4)));
    }
}
