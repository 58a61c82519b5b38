using Npgsql;

namespace HekiActors.Actors.Hosting;

/// <summary>The PostgreSQL journal of a cluster's nodes, checked before a node starts (docs/cluster.md).</summary>
public static class PostgresJournal
{
    /// <summary>How long a node waits for PostgreSQL to answer its first query before giving up.</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Why <paramref name="connectionString"/> is not a PostgreSQL connection string (one line), or null when Npgsql reads it
    /// and it names a host; checks the text only, with no connection (for options, before anything starts).
    /// </summary>
    public static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrWhiteSpace(parsed.Host))
                return "not a PostgreSQL connection string: it names no Host";
            return parsed.Port is < 1 or > 65535 ? $"not a PostgreSQL connection string: Port must be 1-65535, got {parsed.Port}" : null;
        }
        catch (ArgumentException e)
        {
            return $"not a PostgreSQL connection string: {e.Message}";
        }
    }

    /// <summary>
    /// Why <paramref name="connectionString"/> cannot serve as the journal (one line: a malformed string, a server that
    /// does not answer, refused credentials, a missing database), or null when a query runs. Akka.Persistence.Sql would
    /// instead retry its start every second, logging each failure, and leave every VM's first request waiting.
    /// </summary>
    /// <param name="within">How long to wait for the server (default <see cref="StartBound"/>), whatever the string's Timeout says.</param>
    public static async Task<string?> WhyNotUsableAsync(string connectionString, CancellationToken cancellationToken = default, TimeSpan? within = null)
    {
        var bound = within ?? StartBound;
        if (ConnectionStringProblem(connectionString) is { } malformed)
            return malformed;
        NpgsqlConnection connection;
        string server;
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(connectionString);
            server = $"{parsed.Host}:{parsed.Port}";
            // Npgsql's own timeouts past the check's bound, whatever the string says (Timeout=0 would wait for ever): the
            // deadline below ends the check, with one message.
            parsed.Timeout = (int)bound.TotalSeconds + 5;
            parsed.CommandTimeout = (int)bound.TotalSeconds + 5;
            connection = new NpgsqlConnection(parsed.ConnectionString);
        }
        catch (ArgumentException e)
        {
            return $"not a PostgreSQL connection string: {e.Message}";
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(bound);
        var answered = false;
        try
        {
            // WaitAsync too: Npgsql's handshake does not always heed the token; the check must end on time.
            await connection.OpenAsync(deadline.Token).WaitAsync(deadline.Token).ConfigureAwait(false);
            await using var query = new NpgsqlCommand("SELECT 1", connection);
            await query.ExecuteScalarAsync(deadline.Token).WaitAsync(deadline.Token).ConfigureAwait(false);
            answered = true;
            return null;
        }
        catch (Exception e) when (e is (OperationCanceledException or TimeoutException) && !cancellationToken.IsCancellationRequested)
        {
            return $"PostgreSQL at {server} did not answer within {bound.TotalSeconds:0.#} s";
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            return $"PostgreSQL at {server}: {e.Innermost().Message}";
        }
        finally
        {
            // A connection still stuck in its handshake is left to close on its own, never waited for.
            if (answered)
                await connection.DisposeAsync().ConfigureAwait(false);
            else
                _ = connection.DisposeAsync().AsTask();
        }
    }
}
