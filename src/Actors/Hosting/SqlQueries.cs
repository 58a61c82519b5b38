using System.Diagnostics;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;

namespace HekiActors.Actors.Hosting;

/// <summary>Opens Akka.Persistence.Sql's read journal without its fixed start-up deadline.</summary>
/// <remarks>
/// The plugin's <see cref="SqlReadJournal"/> constructor blocks on asking its write journal whether it has started, with
/// a fixed 5-second timeout, and throws when the answer is late: on a loaded machine the write journal's first start
/// (opening SQLite, compiling its queries) can take longer. The write journal goes on starting meanwhile and a failed
/// constructor leaves nothing behind (Akka.Persistence.Query keeps only a read journal that was made), so it is tried
/// again, off the caller's thread, until the caller's bound.
/// </remarks>
public static class SqlQueries
{
    /// <summary>The read journal of <paramref name="system"/>, once its write journal has started.</summary>
    /// <exception cref="AskTimeoutException">The write journal did not start within <paramref name="timeout"/>.</exception>
    public static async Task<SqlReadJournal> OpenAsync(ActorSystem system, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await Task.Run(() => PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (AggregateException e) when (e.InnerException is AskTimeoutException && clock.Elapsed < timeout)
            {
                // The write journal has not answered within the plugin's 5 seconds yet: ask again.
            }
            catch (AggregateException e) when (e.InnerException is AskTimeoutException)
            {
                throw new AskTimeoutException($"the SQL journal did not start within {timeout.TotalSeconds:0} s");
            }
        }
    }
}
