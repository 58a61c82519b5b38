using System.CommandLine;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Cli.Kernels;

/// <summary>
/// <c>heki kernel-data --kernel PATH [--modules PATH] [--sample N] [--name NAME] [--source TEXT]... [--output FILE]</c>:
/// reads a real kernel (bzImage or ELF vmlinux) and its modules and writes their section table and module sizes as a
/// guest-kernel data file (docs/guest-kernels.md), the form the shipped default guest is kept in.
/// Exit status: 0 written, 1 an input could not be read (the message names it), 2 a usage error.
/// </summary>
public static class KernelDataCommand
{
    public static Command Build()
    {
        var kernel = new Option<string>("--kernel") { Description = "The kernel: a bzImage (/boot/vmlinuz-*) or an ELF vmlinux.", Required = true };
        var modules = new Option<string?>("--modules") { Description = "Its modules: a folder (/lib/modules/VERSION), one .ko file, or a text list of .ko paths." };
        var sample = new Option<int?>("--sample") { Description = "Keep only N modules, spread evenly over the path-sorted list (the shipped data keeps 200)." };
        var name = new Option<string?>("--name") { Description = "The name reports give this kernel (default: the kernel file's name)." };
        var source = new Option<string[]>("--source") { Description = "A provenance line to record (package, version, checksum); repeatable.", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string?>("--output") { Description = "Write to FILE instead of standard output (never over an input)." };
        var command = new Command("kernel-data", "Extract a kernel's section table and its modules' sizes into a guest-kernel data file.")
        {
            kernel, modules, sample, name, source, output,
        };
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            var kernelPath = parse.GetValue(kernel)!;
            var modulesPath = parse.GetValue(modules);
            var outputPath = parse.GetValue(output);
            if (parse.GetValue(sample) is < 1)
            {
                error.WriteLine($"heki kernel-data: --sample must be at least 1 (got {parse.GetValue(sample)})");
                return Program.UsageError;
            }

            if (outputPath is not null && OverwritesInput(outputPath, kernelPath, modulesPath))
            {
                error.WriteLine($"heki kernel-data: --output {outputPath} would overwrite an input");
                return Program.UsageError;
            }

            if (!KernelPackageReader.TryRead(kernelPath, modulesPath, parse.GetValue(sample), KernelImageLimits.Default, out var package, out var problem))
            {
                error.WriteLine($"heki kernel-data: {problem}");
                return 1;
            }

            var lines = parse.GetValue(source) ?? [];
            package = package with
            {
                Name = parse.GetValue(name) ?? package.Name,
                Provenance = lines.Length > 0 ? string.Join('\n', lines) : package.Provenance,
            };
            if (outputPath is null)
            {
                KernelDataFile.Write(parse.InvocationConfiguration.Output, package);
            }
            else
            {
                // Written beside the target and moved over it, so a failed run leaves no half-written file.
                var temporary = outputPath + ".partial";
                using (var writer = new StreamWriter(temporary))
                    KernelDataFile.Write(writer, package);
                File.Move(temporary, outputPath, overwrite: true);
            }

            error.WriteLine($"heki kernel-data: {package.Kernel.Sections.Count} sections, {package.Modules.Count} of {package.ModulesAvailable} modules");
            return 0;
        });
        return command;
    }

    private static bool OverwritesInput(string output, string kernel, string? modules)
    {
        var target = Path.GetFullPath(output);
        if (target == Path.GetFullPath(kernel))
            return true;
        if (modules is null)
            return false;
        var tree = Path.GetFullPath(modules);
        return target == tree || target.StartsWith(tree.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
