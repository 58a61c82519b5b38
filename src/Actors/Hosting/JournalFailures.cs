using Akka.Actor;
using HekiActors.Protocol;

namespace HekiActors.Actors.Hosting;

/// <summary>How a persistent actor tells the system its journal failed (<see cref="JournalFailed"/> on the event stream).</summary>
internal static class JournalFailures
{
    public static void Publish(IActorContext context, string persistenceId, Exception cause)
    {
        // The innermost error is the one a user can act on ("database disk image is malformed"), one line of it.
        var reason = new string(cause.GetBaseException().Message.ReplaceLineEndings(" ").Where(c => !char.IsControl(c)).ToArray()).Trim();
        context.System.EventStream.Publish(new JournalFailed(persistenceId, reason.Length > 0 ? reason : cause.GetType().Name));
    }
}
