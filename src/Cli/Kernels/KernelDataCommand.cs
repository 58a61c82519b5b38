using System.CommandLine;
using System.CommandLine.Invocation;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Output;
using HekiActors.Simulation.Kernels;

namespace HekiActors.Cli.Kernels;

/// <summary>
/// <c>heki kernel-data --kernel PATH [--modules PATH] [--sample N] [--name NAME] [--source TEXT]... [--output FILE]</c>:
/// reads a real kernel (bzImage or ELF vmlinux) and its modules and writes their section table and module sizes as a
/// guest-kernel data file (docs/guest-kernels.md), the form the shipped default guest is kept in.
/// Exit status: 0 written, 1 an input could not be read (the message names it), 2 a usage error, 74 the output could
/// not be written (docs/reliability.md).
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
        command.Action = new KernelDataAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (CommandLineProblems.Report(parse, error))
            {
                return Program.UsageError;
            }

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

            PathConflicts.Use[] files = outputPath is null
                ? [new("--kernel", kernelPath, Writes: false)]
                : [new("--kernel", kernelPath, Writes: false), new("--output", outputPath, Writes: true)];
            if (PathConflicts.Find(files, standardStreams: ReferenceEquals(error, StandardStreams.Error), writesStandardOutput: outputPath is null)
                is { } conflict)
            {
                conflict.SafeWriter(parse.InvocationConfiguration.Output, error)?.WriteLine($"heki kernel-data: {conflict.Message}");
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
                WriteOutput(outputPath, package);
            }

            error.WriteLine($"heki kernel-data: {package.Kernel.Sections.Count} sections, {package.Modules.Count} of {package.ModulesAvailable} modules");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Writes the data file to <paramref name="path"/>: a regular file is written beside it and moved over it, so a failed
    /// run leaves no half-written file; anything else (/dev/stdout, a pipe) is written in place: moving a file over a
    /// device or a link would replace it.
    /// </summary>
    /// <exception cref="OutputFailedException">The file could not be written (a full disk, no permission).</exception>
    private static void WriteOutput(string path, KernelPackage package)
    {
        var target = FileIdentity.Of(path);
        var inPlace = !target.IsRegularFileOrAbsent;
        // Through a symbolic link the file it names is replaced, not the link.
        var temporary = inPlace ? path : target.ResolvedPath + ".partial";
        try
        {
            // In place, a FIFO nobody reads fails at once rather than blocking (OutputFile.OpenWrite).
            using (var writer = new StreamWriter(new CheckedStream(inPlace ? OutputFile.OpenWrite(path) : new FileStream(temporary, FileMode.Create, FileAccess.Write),
                       $"--output {path}")))
                KernelDataFile.Write(writer, package);
            if (!inPlace)
                File.Move(temporary, target.ResolvedPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!inPlace)
                TryDelete(temporary);
            throw e as OutputFailedException ?? new OutputFailedException($"--output {path}", e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The failure being reported matters more than its leftover.
        }
    }

    /// <summary>Runs the command; sees parse errors itself so each is one line naming the real problem, exit 2.</summary>
    private sealed class KernelDataAction(Func<ParseResult, int> run) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse) => run(parse);
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
