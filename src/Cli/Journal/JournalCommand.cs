using System.CommandLine;
using System.CommandLine.Invocation;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Output;
using HekiActors.Memory;

namespace HekiActors.Cli.Journal;

/// <summary>
/// <c>heki journal FILE [--json] [--vm ID]</c>: lists the VMs a SQLite journal holds, each rebuilt as its actor would
/// recover it: shape and profile, protected ranges, CR pins and registers, events and snapshots. Lets a user check what
/// survived a crash. Never changes the file (docs/reliability.md, "Reading a journal").
/// </summary>
/// <remarks>
/// Exit status: 0 listed; 1 the journal's contents cannot be turned back into VMs (the listing so far is printed); 2 a
/// usage error or a file that is not a readable journal (the same one-line messages as <c>heki simulate</c>'s checks), or no
/// such VM; 74 an output failed; 75 a simulation holds the journal; 128 + N stopped by a signal.
/// </remarks>
public static class JournalCommand
{
    private const string Owner = "heki journal";

    public static Command Build()
    {
        var file = new Argument<string>("FILE") { Description = "The SQLite journal of a `heki simulate --journal sqlite` run." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (for machines) instead of text." };
        var vm = new Option<string?>("--vm") { Description = "List only this VM.", HelpName = "ID" };
        var command = new Command("journal", "List the VMs a journal holds: protected ranges, CR pins, events and snapshots. Never changes the file.")
        {
            file, json, vm,
        };
        command.Action = new JournalAction(file, json, vm);
        return command;
    }

    /// <summary>Lists <paramref name="path"/>; returns the exit status.</summary>
    internal static async Task<int> RunAsync(string path, bool json, string? onlyVm, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        using var journal = JournalForReading.TryOpen(path, Owner, out var problem, out var inUse);
        if (journal is null)
        {
            error.WriteLine(inUse ? $"heki journal: journal {path} {problem}; list it once that run has ended" : $"heki journal: journal {path}: {problem}");
            return inUse ? ExitCodes.JournalInUse : ExitCodes.Usage;
        }

        if (journal.ReadsCopy)
            error.WriteLine($"heki journal: journal {path} was left in the middle of a write (SQLite's {Path.GetFileName(path)}-journal or -wal beside it); listing what it had committed, read from a copy");
        await using var reader = JournalReader.Open(journal.ReadPath);
        var listing = new JournalListing(output, path, json);
        try
        {
            var ids = await reader.VmIdsAsync(cancellationToken).ConfigureAwait(false);
            if (onlyVm is not null)
            {
                if (!ids.Contains(onlyVm, StringComparer.Ordinal))
                {
                    error.WriteLine($"heki journal: journal {path} has no VM '{Printable.Escape(onlyVm)}'");
                    return ExitCodes.Usage;
                }

                ids = [onlyVm];
            }

            listing.Begin();
            foreach (var id in ids)
                listing.Add(await reader.ReadAsync(id, cancellationToken).ConfigureAwait(false));
            listing.End();
            return ExitCodes.Ok;
        }
        catch (JournalContentException e)
        {
            listing.Fail(e.Message);
            output.Flush();
            error.WriteLine($"heki journal: journal {Printable.Escape(path)}: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Stopped;
        }
    }

    /// <summary>What <see cref="RunAsync"/> returns when its token was cancelled (the caller turns it into 128 + the signal).</summary>
    internal const int Stopped = -1;

    private sealed class JournalAction(Argument<string> file, Option<bool> json, Option<string?> vm) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (CommandLineProblems.Report(parse, error))
                return ExitCodes.Usage;

            var path = parse.GetValue(file)!;
            PathConflicts.Use[] files = [new("the journal", path, Writes: false)];
            if (PathConflicts.Find(files, standardStreams: ReferenceEquals(output, StandardStreams.Output)) is { } conflict)
            {
                conflict.SafeWriter(output, error)?.WriteLine($"heki journal: {conflict.Message}");
                return ExitCodes.Usage;
            }

            using var signals = StopSignals.Register(_ => { });
            var status = RunAsync(path, parse.GetValue(json), parse.GetValue(vm), output, error, signals.Token).GetAwaiter().GetResult();
            return status == Stopped ? ExitCodes.StoppedBy(signals.Received ?? System.Runtime.InteropServices.PosixSignal.SIGINT) : status;
        }
    }
}
