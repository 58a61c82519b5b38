using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.Journal;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Protocol;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>
/// A VM whose journal fails its recovery stops (Akka.Persistence) and says so (<see cref="JournalFailed"/>); the local
/// parent does not wait for it: other VMs and <see cref="ListVms"/> still answer.
/// </summary>
public sealed class RecoveryFailureTests(ITestOutputHelper output) : ActorTestBase(output, config: BrokenRecoveryJournal.Config)
{
    [Fact]
    public void A_VM_that_cannot_recover_does_not_hold_back_the_list_of_VMs_or_other_VMs()
    {
        var failures = CreateTestProbe();
        Sys.EventStream.Subscribe(failures.Ref, typeof(JournalFailed));
        CreateVm("a");

        Vms.Tell(new GetPermissions(BrokenRecoveryJournal.VmId, 1), TestActor);
        Assert.Equal("vm-" + BrokenRecoveryJournal.VmId, failures.ExpectMsg<JournalFailed>(Timeout).PersistenceId);

        Assert.Equal(["a"], VmIds());
        Assert.Equal(HekiAttributes.DefaultPermissions, Permissions("a", 1));
    }

    /// <summary>The in-memory journal, failing every recovery of one VM.</summary>
    public sealed class BrokenRecoveryJournal : InMemoryJournal
    {
        public const string VmId = "broken";

        public static Config Config => ConfigurationFactory.ParseString($$"""
            akka.persistence.journal.plugin = "akka.persistence.journal.broken-recovery"
            akka.persistence.journal.broken-recovery.class = "{{typeof(BrokenRecoveryJournal).AssemblyQualifiedName}}"
            """);

        public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken) =>
            persistenceId == "vm-" + VmId
                ? Task.FromException<long>(new InvalidOperationException("the journal cannot be read"))
                : base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
    }
}
