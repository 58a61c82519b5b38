using Npgsql;

namespace HekiActors.Actors.Hosting;

/// <summary>The PostgreSQL journal of a cluster's nodes, checked before a node starts (docs/cluster.md).</summary>
public static class PostgresJournal
{
    /// <summary>How long a node waits for PostgreSQL to answer its first query before giving up.</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Why <paramref name="connectionString"/> cannot serve as the journal (one line: a malformed string, a server that
    /// does not answer, refused credentials, a missing database), or null when a query runs. Akka.Persistence.Sql would
    /// instead retry its start every second, logging each failure, and leave every VM's first request waiting.
    /// </summary>
    public static async Task<string?> WhyNotUsableAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        NpgsqlConnection connection;
        string server;
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(connectionString);
            server = $"{parsed.Host}:{parsed.Port}";
            connection = new NpgsqlConnection(connectionString);
        }
        catch (ArgumentException e)
        {
            return $"not a PostgreSQL connection string: {e.Message}";
        }

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(StartBound);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await connection.OpenAsync(bound.Token).ConfigureAwait(false);
                await using var query = new NpgsqlCommand("SELECT 1", connection);
                await query.ExecuteScalarAsync(bound.Token).ConfigureAwait(false);
                return null;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return $"PostgreSQL at {server} did not answer within {StartBound.TotalSeconds:0} s";
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException or TimeoutException)
            {
                return $"PostgreSQL at {server}: {e.Innermost().Message}";
            }
        }
    }
}
