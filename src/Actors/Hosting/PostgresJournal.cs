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
        Parse(connectionString, out var problem);
        return problem;
    }

    /// <summary>The connection string read by Npgsql, or null with <paramref name="problem"/> (see <see cref="ConnectionStringProblem"/>).</summary>
    private static NpgsqlConnectionStringBuilder? Parse(string connectionString, out string? problem)
    {
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            problem = $"not a PostgreSQL connection string: {e.Message}";
            return null;
        }

        problem = string.IsNullOrWhiteSpace(parsed.Host) ? "not a PostgreSQL connection string: it names no Host"
            : parsed.Port is < 1 or > 65535 ? $"not a PostgreSQL connection string: Port must be 1-65535, got {parsed.Port}"
            : null;
        return problem is null ? parsed : null;
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
        if (Parse(connectionString, out var malformed) is not { } parsed)
            return malformed;
        var server = $"{parsed.Host}:{parsed.Port}";
        // Npgsql's own timeouts past the check's bound, whatever the string says (Timeout=0 would wait for ever): the
        // deadline below ends the check, with one message.
        parsed.Timeout = (int)bound.TotalSeconds + 5;
        parsed.CommandTimeout = (int)bound.TotalSeconds + 5;
        var connection = new NpgsqlConnection(parsed.ConnectionString);

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
