namespace HekiActors.Actors.Hosting;

/// <summary>
/// A node's durable journal could not be read when it started (<see cref="HekiHost.StartAsync"/>): a PostgreSQL that is
/// not reachable or refuses the credentials, a SQLite file that cannot be opened. The message names the cause in one line.
/// </summary>
public sealed class JournalStartException(string message, Exception? inner = null) : Exception(message, inner);
