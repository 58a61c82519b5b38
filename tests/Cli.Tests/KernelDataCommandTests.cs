using HekiActors.Simulation.Kernels;

namespace HekiActors.Cli.Tests;

/// <summary><c>heki kernel-data</c>: writes a guest-kernel data file; refuses bad inputs (exit 1) and bad usage (exit 2).</summary>
public sealed class KernelDataCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"heki-kernel-data-{Guid.NewGuid():N}");

    public KernelDataCommandTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_data_file_given_as_the_kernel_is_written_again_with_a_sample_of_its_modules()
    {
        var input = Path.Combine(_folder, "debian.txt");
        using (var writer = new StreamWriter(input))
            KernelDataFile.Write(writer, ShippedKernels.Debian);
        var output = Path.Combine(_folder, "out.txt");

        var (status, _, stderr) = Run("kernel-data", "--kernel", input, "--sample", "10", "--name", "small", "--source", "test copy", "--output", output);

        Assert.Equal(0, status);
        Assert.Equal("heki kernel-data: 38 sections, 10 of 4022 modules", stderr.Trim());
        using var reader = new StreamReader(output);
        Assert.True(KernelDataFile.TryRead(reader, output, out var written, out var error), error);
        Assert.Equal(("small", "test copy", 10), (written.Name, written.Provenance, written.Modules.Count));
        Assert.Equal(ShippedKernels.Debian.Kernel.Sections, written.Kernel.Sections);
        Assert.False(File.Exists(output + ".partial"));
    }

    [Fact]
    public void A_kernel_that_cannot_be_read_exits_1_naming_it()
    {
        var bad = Path.Combine(_folder, "vmlinuz");
        File.WriteAllText(bad, "not a kernel");

        var (status, stdout, stderr) = Run("kernel-data", "--kernel", bad);

        Assert.Equal(1, status);
        Assert.Empty(stdout);
        Assert.StartsWith($"heki kernel-data: {bad}: neither a bzImage", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_over_an_input_and_a_sample_below_one_are_usage_errors()
    {
        var input = Path.Combine(_folder, "k.txt");
        File.WriteAllText(input, "x");

        Assert.Equal(2, Run("kernel-data", "--kernel", input, "--output", input).Status);
        Assert.Equal("x", File.ReadAllText(input));
        Assert.Equal(2, Run("kernel-data", "--kernel", input, "--modules", _folder, "--output", Path.Combine(_folder, "sub", "o.txt")).Status);
        Assert.Equal(2, Run("kernel-data", "--kernel", input, "--sample", "0").Status);
        Assert.Equal(2, Run("kernel-data").Status);
    }

    [Fact]
    public void An_output_through_a_symbolic_link_replaces_the_file_it_names_and_keeps_the_link()
    {
        var input = Path.Combine(_folder, "debian.txt");
        using (var writer = new StreamWriter(input))
            KernelDataFile.Write(writer, ShippedKernels.Debian);
        var link = Path.Combine(_folder, "latest.txt");
        File.CreateSymbolicLink(link, "data.txt");

        Assert.Equal(0, Run("kernel-data", "--kernel", input, "--sample", "2", "--output", link).Status);

        Assert.Equal("data.txt", new FileInfo(link).LinkTarget);
        Assert.StartsWith("# heki guest-kernel data", File.ReadAllText(Path.Combine(_folder, "data.txt")));
        // Another name of the kernel itself is still an input.
        File.CreateSymbolicLink(Path.Combine(_folder, "k.txt"), "debian.txt");
        Assert.Equal(2, Run("kernel-data", "--kernel", input, "--output", Path.Combine(_folder, "k.txt")).Status);
    }

    [Fact]
    public void A_bad_command_line_names_the_problem_in_one_line()
    {
        var (status, stdout, stderr) = Run("kernel-data", "--bogus", "--kernel", "k");

        Assert.Equal(2, status);
        Assert.Equal("", stdout);
        Assert.Equal("heki kernel-data: unknown option '--bogus'\nTry 'heki kernel-data --help'.\n", stderr);
    }

    private static (int Status, string Stdout, string Stderr) Run(params string[] args)
    {
        var parse = Program.BuildRoot().Parse(args);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        parse.InvocationConfiguration.Output = stdout;
        parse.InvocationConfiguration.Error = stderr;
        return (Program.Run(parse), stdout.ToString(), stderr.ToString());
    }
}
