namespace HekiActors.Actors.Hosting;

/// <summary>
/// The persistence ids that may have rows in one part of a single-writer journal file: those that had rows when the
/// plugin started and those it has been asked to write since. Any other id has none (see <see cref="SqliteWriteJournal"/>).
/// Thread-safe: the plugins ask from their continuations as well as from their actor.
/// </summary>
/// <param name="atStart">The ids with rows at the start; null when they could not be read (then every id may have rows).</param>
internal sealed class KnownIds(HashSet<string>? atStart)
{
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    /// <summary>Marks <paramref name="persistenceId"/> as written, before its write is handed on.</summary>
    public void Written(string persistenceId)
    {
        lock (_written)
            _written.Add(persistenceId);
    }

    /// <summary>False only when <paramref name="persistenceId"/> certainly has no row.</summary>
    public bool MayHaveRows(string persistenceId)
    {
        if (atStart is null || atStart.Contains(persistenceId))
            return true;
        lock (_written)
            return _written.Contains(persistenceId);
    }
}
