using System.Collections.Immutable;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using HekiActors.Actors.Hosting;

namespace HekiActors.Actors.Tests;

/// <summary>
/// The in-memory journal with a gate: while <see cref="Close"/>d, writes wait, so a test can act while a VM's
/// change is being written. One gate for the process: only <see cref="TranslationDuringWriteTests"/> uses it.
/// </summary>
public sealed class GatedJournal : InMemoryJournal
{
    private static readonly Lock Gate = new();
    private static TaskCompletionSource _open = Opened();

    /// <summary>The HOCON that makes it the default journal.</summary>
    public static Config Config => ConfigurationFactory.ParseString($$"""
        akka.persistence.journal.plugin = "akka.persistence.journal.gated"
        akka.persistence.journal.gated.class = "{{typeof(GatedJournal).AssemblyQualifiedName}}"
        """);

    /// <summary>Writes from now on wait until <see cref="Open"/>.</summary>
    public static void Close()
    {
        lock (Gate)
        {
            if (_open.Task.IsCompleted)
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public static void Open()
    {
        lock (Gate)
            _open.TrySetResult();
    }

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        Task open;
        lock (Gate)
            open = _open.Task;
        await open.ConfigureAwait(false);
        return await base.WriteMessagesAsync(messages, cancellationToken).ConfigureAwait(false);
    }

    private static TaskCompletionSource Opened()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }
}
