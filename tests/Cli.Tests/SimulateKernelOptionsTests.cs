using System.Text.Json;
using HekiActors.Cli.Simulate;
using HekiActors.Memory;
using HekiActors.Simulation;
using HekiActors.Simulation.Guest;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Cli.Tests;

/// <summary>--kernel, --modules, --boot-modules, --run-modules and the scenario's kernel: section; the report's guest-kernel section.</summary>
public sealed class SimulateKernelOptionsTests
{
    [Fact]
    public void Kernel_debian_boots_the_shipped_kernel_with_8_modules_at_boot_and_10_during_the_run()
    {
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, "--no-progress", "--kernel", "debian");

        Assert.True(code == 0, error);
        var kernel = Assert.Single(engine.Runs).Kernel!;
        Assert.Same(ShippedKernels.Debian, kernel.Package);
        Assert.Equal((8, 10), (kernel.BootModules.Count, kernel.RunModules.Count));
    }

    [Fact]
    public void Module_choices_are_counts_or_names_and_synthetic_is_the_synthetic_layout()
    {
        var engine = new FakeSimulationEngine();

        Assert.Equal(0, Samples.Run(engine, "--no-progress", "--kernel", ShippedKernels.DebianName, "--boot-modules", "zstd,fan", "--run-modules", "0").Code);
        Assert.Equal(0, Samples.Run(engine, "--no-progress", "--kernel", "synthetic").Code);

        Assert.Equal(["zstd", "fan"], engine.Runs[0].Kernel!.BootModules.Names!);
        Assert.Equal(0, engine.Runs[0].Kernel!.RunModules.Count);
        Assert.Same(GuestKernelSpec.Synthetic, engine.Runs[1].Kernel);
    }

    [Theory]
    [InlineData("no module named \"nope\"", "--kernel", "debian", "--boot-modules", "nope")]
    [InlineData("--run-modules must be a number of modules or a comma-separated list of module names, got a,,b", "--kernel", "debian", "--run-modules", "a,,b")]
    [InlineData("the kernel debian-6.1.0-47-amd64 needs at least 94 MiB of guest memory, got 64", "--kernel", "debian", "--memory-mb", "64")]
    [InlineData("the synthetic guest has no real modules", "--kernel", "synthetic", "--boot-modules", "2")]
    [InlineData("/no/such/vmlinuz: no such file", "--kernel", "/no/such/vmlinuz")]
    [InlineData("/no/such/modules: no such file or folder", "--kernel", "debian", "--modules", "/no/such/modules")]
    public void Bad_kernel_settings_are_usage_errors_that_name_the_problem(string problem, params string[] args)
    {
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, ["--no-progress", .. args]);

        Assert.Equal(2, code);
        Assert.Contains(problem, error, StringComparison.Ordinal);
        Assert.Empty(engine.Runs);
    }

    [Fact]
    public void Module_choices_without_a_kernel_apply_to_the_default_guest_which_must_be_a_real_one()
    {
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, "--no-progress", "--run-modules", "3");

        if (GuestKernelSpec.Default.Package is null)
        {
            Assert.Equal(2, code);
            Assert.Contains("modules need a real kernel: give --kernel", error, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(code == 0, error);
            Assert.Same(GuestKernelSpec.Default.Package, engine.Runs[0].Kernel!.Package);
            Assert.Equal(3, engine.Runs[0].Kernel!.RunModules.Count);
        }
    }

    [Fact]
    public void A_kernel_file_that_is_not_a_kernel_is_a_usage_error_naming_it()
    {
        using var folder = new TempFolder();
        var bad = folder.File("vmlinuz", "not a kernel");

        var (code, _, error) = Samples.Run(new FakeSimulationEngine(), "--no-progress", "--kernel", bad);

        Assert.Equal(2, code);
        Assert.Contains($"{bad}: neither a bzImage", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_scenario_kernel_section_takes_paths_from_the_files_folder_and_options_replace_its_keys()
    {
        using var folder = new TempFolder();
        var data = new StringWriter();
        KernelDataFile.Write(data, ShippedKernels.Debian);
        folder.File("k.txt", data.ToString());
        var scenario = folder.File("s.yaml", "kernel:\n  image: k.txt\n  boot_modules: [zstd]\n  run_modules: 3\n");
        var engine = new FakeSimulationEngine();

        // The working directory is the test's, not the scenario's folder: "k.txt" is found beside the scenario.
        Assert.False(File.Exists("k.txt"));
        Assert.Equal(0, Samples.Run(engine, scenario, "--no-progress").Code);
        Assert.Equal(0, Samples.Run(engine, scenario, "--no-progress", "--run-modules", "5").Code);

        var first = engine.Runs[0].Kernel!;
        Assert.Equal(ShippedKernels.Debian.Kernel.Sections, first.Package!.Kernel.Sections);
        Assert.Equal(["zstd"], first.BootModules.Names!);
        Assert.Equal(3, first.RunModules.Count);
        Assert.Equal(5, engine.Runs[1].Kernel!.RunModules.Count);
        Assert.Equal(["zstd"], engine.Runs[1].Kernel!.BootModules.Names!);
    }

    [Theory]
    [InlineData("kernel:\n  imag: debian\n", "unknown key \"kernel.imag\"; known keys under \"kernel\": image, modules, boot_modules, run_modules")]
    [InlineData("kernel:\n  image: 3\n", "key \"kernel.image\" must be synthetic, debian, or the path")]
    [InlineData("kernel:\n  image: debian\n  boot_modules: -1\n", "key \"kernel.boot_modules\" must be a number of modules or a comma-separated list")]
    [InlineData("kernel:\n  image: debian\n  run_modules: [a b]\n", "key \"kernel.run_modules[0]\" must be a module name")]
    public void Bad_kernel_keys_are_refused_with_their_line(string yaml, string problem)
    {
        using var folder = new TempFolder();
        var scenario = folder.File("s.yaml", yaml);

        var (code, _, error) = Samples.Run(new FakeSimulationEngine(), scenario, "--no-progress");

        Assert.Equal(2, code);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_has_a_guest_kernel_section_in_text_and_json()
    {
        var spec = SimulationSpec.Default() with { Vms = 2, Kernel = GuestKernelSpec.For(DefaultGuest.Debian) };
        var counters = new KernelCounters();
        counters[KernelCounter.Boots] = 2;
        counters[KernelCounter.BootProtectCalls] = 2;
        counters[KernelCounter.BootRanges] = 8;
        counters[KernelCounter.BootListPages] = 2;
        counters[KernelCounter.ModuleLoads] = 36;
        counters[KernelCounter.ModuleUnloads] = 18;
        counters[KernelCounter.ImmutableReleasesRefused] = 18;
        counters[KernelCounter.PagesQuarantined] = 90;
        var result = Samples.Result(spec) with { GuestKernel = GuestKernelReport.Of(spec, counters) };

        var text = ReportWriter.Render(Scenario.Default, [result], stoppedEarly: false);
        using var json = JsonDocument.Parse(JsonReport.Render(Scenario.Default, [result], stoppedEarly: false));

        Assert.Contains("guest kernel: debian-6.1.0-47-amd64 (bzImage (xz)), modules at boot 2, during the run 2", text);
        Assert.Matches(@"per boot: PROTECT_MEMORY calls / ranges / list pages\s+1 / 4 / 1", text);
        Assert.Matches(@"text\+rodata release refused \(-EPERM\)\s+18", text);
        Assert.Contains("an unloaded module's text and rodata can never be reused", text);
        var kernel = json.RootElement.GetProperty("runs")[0].GetProperty("guest_kernel");
        Assert.Equal(4, kernel.GetProperty("per_boot").GetProperty("ranges").GetDouble());
        Assert.Equal(36, kernel.GetProperty("module_loads").GetProperty("total").GetInt64());
        Assert.Equal(90, kernel.GetProperty("module_unloads").GetProperty("pages_quarantined").GetInt64());
        Assert.Equal(4096, kernel.GetProperty("unprotected_pages_below_kernel").GetInt64());
        Assert.DoesNotContain("guest kernel", ReportWriter.Render(Scenario.Default, [Samples.Result(spec)], stoppedEarly: false));
    }
}
