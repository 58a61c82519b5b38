using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;
using HekiActors.Actors.Hosting;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// The in-memory journal (<see cref="InMemoryJournal"/>) with faults on demand (a wrapping journal, composable with whatever the journal does):
/// the chaos runner arms a fault for one persistence id and the journal spends it on that id's next write or
/// recovery. A failed write fails the actor's persist (it stops and is started again from its journal); a failed
/// recovery stops the recovering actor; a stall holds the write back before it is stored.
/// </summary>
public sealed class ChaosJournal : InMemoryJournal
{
    /// <summary>The plugin's HOCON path.</summary>
    public const string PluginId = "akka.persistence.journal.chaos";

    /// <summary>HOCON that makes this journal the default one (the snapshot store stays in memory).</summary>
    public static readonly string Config = $$"""
        akka.persistence.journal.plugin = "{{PluginId}}"
        {{PluginId}} {
          class = "{{typeof(ChaosJournal).AssemblyQualifiedName}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """;

    private readonly JournalFaults _faults = JournalFaults.Get(Context.System);

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        foreach (var write in writes)
        {
            switch (_faults.Take(write.PersistenceId, JournalFault.WriteStall))
            {
                case { } stall:
                    await Task.Delay(stall.Stall, cancellationToken).ConfigureAwait(false);
                    break;
            }

            if (_faults.Take(write.PersistenceId, JournalFault.WriteFailure) is not null)
                throw new JournalFaultException($"injected journal write failure for {write.PersistenceId}");
        }

        return await base.WriteMessagesAsync(writes, cancellationToken).ConfigureAwait(false);
    }

    public override Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        if (_faults.Take(persistenceId, JournalFault.RecoveryFailure) is not null)
            return Task.FromException(new JournalFaultException($"injected journal read failure while {persistenceId} recovers"));
        return base.ReplayMessagesAsync(context, persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback);
    }
}

/// <summary>Which journal fault is armed.</summary>
public enum JournalFault
{
    WriteFailure,
    WriteStall,
    RecoveryFailure,
}

/// <summary>An armed fault; <paramref name="Stall"/> for <see cref="JournalFault.WriteStall"/>.</summary>
public sealed record ArmedJournalFault(JournalFault Kind, TimeSpan Stall);

/// <summary>Thrown by <see cref="ChaosJournal"/> for an injected fault.</summary>
public sealed class JournalFaultException(string message) : Exception(message);

/// <summary>The faults armed per persistence id, one actor system's (an Akka extension, so the journal finds them).</summary>
public sealed class JournalFaults : IExtension
{
    private readonly ConcurrentDictionary<(string, JournalFault), ArmedJournalFault> _armed = new();

    public static JournalFaults Get(ActorSystem system) => system.WithExtension<JournalFaults, JournalFaultsProvider>();

    /// <summary>Arms <paramref name="fault"/> for the next matching operation of <paramref name="persistenceId"/>.</summary>
    public void Arm(string persistenceId, ArmedJournalFault fault) => _armed[(persistenceId, fault.Kind)] = fault;

    /// <summary>Spends the armed fault, if any.</summary>
    public ArmedJournalFault? Take(string persistenceId, JournalFault kind) =>
        _armed.TryRemove((persistenceId, kind), out var fault) ? fault : null;

    /// <summary>Disarms everything left (a run's end: nothing may fail after it).</summary>
    public void Clear() => _armed.Clear();

    private sealed class JournalFaultsProvider : ExtensionIdProvider<JournalFaults>
    {
        public override JournalFaults CreateExtension(ExtendedActorSystem system) => new();
    }
}
