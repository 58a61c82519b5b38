using Akka.Persistence;
using HekiActors.Protocol;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// A persistent actor that says when its journal fails it: Akka.Persistence stops an actor whose recovery or write
/// fails (and drops a rejected write's reply), so whoever waits for its answers would wait forever. Each failure is
/// published on the event stream as <see cref="JournalFailed"/> before Akka's own handling.
/// </summary>
public abstract class JournaledActor : UntypedPersistentActor
{
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Publish(reason);
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Publish(cause);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Publish(cause);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    private void Publish(Exception cause)
    {
        // The innermost error is the one a user can act on ("database disk image is malformed"), on one line.
        var reason = new string(cause.GetBaseException().Message.ReplaceLineEndings(" ").Where(c => !char.IsControl(c)).ToArray()).Trim();
        Context.System.EventStream.Publish(new JournalFailed(PersistenceId, reason.Length > 0 ? reason : cause.GetType().Name));
    }
}
