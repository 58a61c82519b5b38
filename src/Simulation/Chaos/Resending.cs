using Akka.Actor;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// How a chaos run's sender resends a request that got no reply, always with its id. A read is given up after a few
/// resends: it changes nothing, and an unanswered one teaches the oracle nothing. A change is resent until it is answered,
/// for much longer: once sent it may be applied whenever the VM gets to it (a VM recovering in a process just started on
/// a loaded machine took over 2 s), and a sender that went on without its answer would leave the oracle behind the VM,
/// which then reports the change it never heard of as a lost acknowledged one. Its answer (from the VM's record if it
/// was applied) tells the oracle what is in force.
/// </summary>
internal static class Resending
{
    /// <summary>Asks, and resends on every timeout, until answered.</summary>
    /// <param name="ask">One send of the request and its wait for the reply; throws <see cref="AskTimeoutException"/> when none came.</param>
    /// <param name="resends">Resends before giving up (at least 0).</param>
    /// <param name="resendsOnceStopping">Resends before giving up once <paramref name="stopping"/> is cancelled (at most <paramref name="resends"/>):
    /// a stopped run does not wait the whole of a change's window.</param>
    /// <returns>The reply; null when none came.</returns>
    public static async Task<object?> AskAsync(Func<Task<object>> ask, int resends, int resendsOnceStopping, CancellationToken stopping)
    {
        for (var attempt = 0; attempt <= resends; attempt++)
        {
            if (attempt > resendsOnceStopping && stopping.IsCancellationRequested)
                return null;
            try
            {
                return await ask().ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                // No reply (a journal write failed, the VM was restarting or recovering): resend.
            }
        }

        return null;
    }
}
