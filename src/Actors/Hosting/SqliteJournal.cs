using System.Buffers.Binary;
using Microsoft.Data.Sqlite;

namespace HekiActors.Actors.Hosting;

/// <summary>
/// The SQLite journal file (Akka.Persistence.Sql with Microsoft.Data.Sqlite): the connection string a path becomes, and
/// the check a file must pass before an actor system is started on it.
/// </summary>
/// <remarks>
/// A path is always a path: the connection string is built by <see cref="SqliteConnectionStringBuilder"/> from the
/// absolute path, so <c>a.db;Mode=ReadOnly</c> names a file with a semicolon, and <c>file:...</c>, <c>:memory:</c> or
/// <c>|DataDirectory|</c> never reach SQLite's special meanings.
/// </remarks>
public static class SqliteJournal
{
    /// <summary>The tables Akka.Persistence.Sql creates (default table mapping) and the columns it reads and writes.</summary>
    private static readonly Dictionary<string, string[]> Tables = new(StringComparer.OrdinalIgnoreCase)
    {
        ["journal"] = ["ordering", "created", "deleted", "persistence_id", "sequence_number", "message", "manifest", "identifier", "writer_uuid"],
        ["snapshot"] = ["persistence_id", "sequence_number", "created", "snapshot", "manifest", "serializer_id"],
        ["tags"] = ["ordering_id", "tag", "sequence_nr", "persistence_id"],
        ["journal_metadata"] = ["persistence_id", "sequence_number"],
    };

    private static readonly byte[] Header = "SQLite format 3\0"u8.ToArray();

    /// <summary>How long the check waits for another program's lock on the file before calling it busy.</summary>
    private static readonly TimeSpan BusyWait = TimeSpan.FromSeconds(1);

    /// <summary>The connection string for the journal at <paramref name="path"/> (relative paths from the current directory).</summary>
    public static string ConnectionString(string path) =>
        new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(path), Mode = SqliteOpenMode.ReadWriteCreate }.ToString();

    /// <summary>
    /// Leaves the journal at <paramref name="path"/> at rest once its node stopped: closes this process's pooled
    /// connections to it (the SQL plugins' are pooled by <see cref="ConnectionString"/>), then checks the WAL into the
    /// file and turns it back to rollback mode, so one file is left and a reader (<c>heki journal</c>, read-only) reads
    /// it in place without creating SQLite's WAL files beside it. The next node turns WAL on again
    /// (<see cref="HekiConfig.JournalSetup"/>). A file that cannot be settled now (another program holds it) stays in
    /// WAL mode, which a reader handles by reading a settled copy.
    /// </summary>
    public static void Settle(string path)
    {
        using (var pooled = new SqliteConnection(ConnectionString(path)))
            SqliteConnection.ClearPool(pooled);
        if (!File.Exists(path))
            return;
        try
        {
            using var db = new SqliteConnection(new SqliteConnectionStringBuilder(ConnectionString(path)) { Pooling = false }.ToString());
            db.Open();
            using var command = db.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = DELETE";
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // Left in WAL mode: every committed change is in the file or its log, and readers settle a copy.
        }
    }

    /// <summary>
    /// The persistence ids with rows in any of <paramref name="tables"/> (of the journal at <paramref name="connectionString"/>):
    /// none for a file that does not exist yet or lacks the tables, null when they cannot be read (the caller then assumes
    /// any id may have rows). Reads only; a missing file is not created.
    /// </summary>
    internal static HashSet<string>? PersistenceIds(string connectionString, params string[] tables)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = false };
        var ids = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (!File.Exists(builder.DataSource))
                return ids;
            using var db = new SqliteConnection(builder.ToString());
            db.Open();
            foreach (var table in tables)
            {
                using var command = db.CreateCommand();
                command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
                command.Parameters.AddWithValue("$name", table);
                if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
                    continue;
                // Table names are ours (the plugin's default mapping), never a user's.
                command.CommandText = $"SELECT DISTINCT persistence_id FROM \"{table}\"";
                command.Parameters.Clear();
                using var reader = command.ExecuteReader();
                while (reader.Read())
                    ids.Add(reader.GetString(0));
            }

            return ids;
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Checks that <paramref name="path"/> can serve as a journal, without changing it: a missing file in a writable
    /// directory (SQLite creates it), an empty file, or a sound SQLite database that this process can write and whose
    /// tables, if any, are a journal's. Takes at most a few seconds (one integrity pass over the file).
    /// </summary>
    /// <returns>Null when it can; otherwise what is wrong, one line, without the path (the caller names the file).</returns>
    public static string? Check(string path) => CheckPath(path) ?? CheckFile(path);

    /// <summary>The part of <see cref="Check"/> that only looks at the path (run it before creating anything beside the file).</summary>
    public static string? CheckPath(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            return "the path is empty";
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"not a valid path ({e.Message})";
        }

        if (Path.EndsInDirectorySeparator(path) || Directory.Exists(full))
            return "is a directory, not a file";
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            return File.Exists(directory) ? $"{directory} is a file, not a directory" : $"directory {directory} does not exist";
        if (LinuxFiles.TryStat(full, out var status) && status.Type != LinuxFiles.RegularFile)
            return "is not a regular file (a device, pipe or socket cannot hold a journal)";
        return null;
    }

    /// <summary>The part of <see cref="Check"/> that reads the file (or, for a new one, tries its directory).</summary>
    public static string? CheckFile(string path)
    {
        var full = Path.GetFullPath(path);
        return File.Exists(full) ? CheckHeader(full) ?? CheckContents(full, write: true) : CheckDirectoryWritable(full, Path.GetDirectoryName(full)!);
    }

    /// <summary>
    /// The checks of <see cref="Check"/> for a journal that is only read (<c>heki journal</c>): the path, that the file
    /// exists, its header, SQLite's integrity check and the tables. The file is opened read-only and nothing is written,
    /// not even the probe of <see cref="CheckFile"/>.
    /// </summary>
    /// <returns>Null when it can be read; otherwise what is wrong, one line, without the path.</returns>
    public static string? CheckReadable(string path)
    {
        if (CheckPath(path) is { } badPath)
            return badPath;
        var full = Path.GetFullPath(path);
        return File.Exists(full) ? CheckHeader(full) ?? CheckContents(full, write: false) : "does not exist";
    }

    private static string? CheckDirectoryWritable(string full, string directory)
    {
        // SQLite will create the file (and its rollback journal) there: try that now rather than at the first event.
        var probe = $"{full}.heki-probe-{Environment.ProcessId}";
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be created: directory {directory} is not writable ({Reason(e)})";
        }
    }

    /// <summary>The 100-byte database header (sqlite.org/fileformat.html §1.3): magic, page size, and the page count.</summary>
    private static string? CheckHeader(string full)
    {
        var header = new byte[100];
        long length;
        try
        {
            using var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            length = file.Length;
            if (length == 0)
                return null; // SQLite takes an empty file as an empty database.
            file.ReadExactly(header, 0, (int)Math.Min(length, header.Length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read ({Reason(e)})";
        }

        if (!header.AsSpan(0, Header.Length).SequenceEqual(Header))
            return "not a SQLite database (it does not start with the SQLite header)";
        if (length < header.Length)
            return $"truncated: {length} bytes, shorter than a SQLite header";
        var pageSize = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16)) is var raw && raw == 1 ? 65536 : (int)raw;
        if (pageSize < 512 || (pageSize & (pageSize - 1)) != 0)
            return $"damaged: its header gives a page size of {pageSize}";
        if (length % pageSize != 0)
            return $"truncated: {length} bytes is not a whole number of {pageSize}-byte pages";
        // The page count is valid when "version-valid-for" equals the change counter (SQLite 3.7.0 and later write both).
        var changeCounter = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24));
        var validFor = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(92));
        var pages = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(28));
        if (validFor == changeCounter && pages > 0 && (long)pages * pageSize > length)
            return $"truncated: its header says {(long)pages * pageSize} bytes ({pages} pages) but the file has {length}";
        return null;
    }

    private static string? CheckContents(string full, bool write)
    {
        var connection = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = write ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = (int)BusyWait.TotalSeconds,
        }.ToString();
        try
        {
            using var db = new SqliteConnection(connection);
            db.Open();
            var integrity = Scalar(db, "PRAGMA quick_check(1)");
            if (!string.Equals(integrity, "ok", StringComparison.OrdinalIgnoreCase))
                return $"damaged: SQLite's integrity check says: {OneLine(integrity)}";
            return CheckTables(db) ?? (write ? CheckWritable(db) : null);
        }
        catch (SqliteException e)
        {
            return Describe(e);
        }
    }

    private static string? CheckTables(SqliteConnection db)
    {
        var names = new List<string>();
        using (var command = db.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
            using var reader = command.ExecuteReader();
            while (reader.Read())
                names.Add(reader.GetString(0));
        }

        var foreign = names.Where(name => !Tables.ContainsKey(name)).ToList();
        if (foreign.Count > 0)
            return $"a SQLite database but not a heki journal (it has other tables: {string.Join(", ", foreign.Take(5))})";
        foreach (var name in names)
        {
            var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            using var command = db.CreateCommand();
            command.CommandText = $"SELECT name FROM pragma_table_info('{name.Replace("'", "''", StringComparison.Ordinal)}')";
            using var reader = command.ExecuteReader();
            while (reader.Read())
                columns.Add(reader.GetString(0));
            var missing = Tables[name].Where(column => !columns.Contains(column)).ToList();
            if (missing.Count > 0)
                return $"its '{name}' table is not a journal's (no column {string.Join(", ", missing)})";
        }

        return null;
    }

    /// <summary>A write that is rolled back: proves the file and its directory (rollback journal) are writable, and no one holds a lock.</summary>
    private static string? CheckWritable(SqliteConnection db)
    {
        using var command = db.CreateCommand();
        command.CommandText = "BEGIN IMMEDIATE; CREATE TABLE heki_write_probe(x); ROLLBACK;";
        try
        {
            command.ExecuteNonQuery();
            return null;
        }
        catch (SqliteException e)
        {
            using var rollback = db.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            try
            {
                rollback.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // Nothing was begun.
            }

            return Describe(e);
        }
    }

    private static string? Scalar(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()?.ToString();
    }

    /// <summary>SQLite's primary result codes (sqlite.org/rescode.html) in the user's terms.</summary>
    internal static string Describe(SqliteException e) => (e.SqliteErrorCode & 0xFF) switch
    {
        5 or 6 => "in use by another program (SQLite says the database is locked)",
        8 => "cannot be written (the file or its directory is read-only)",
        10 => $"cannot be read or written (I/O error: {e.Message})",
        11 => "damaged (SQLite: database disk image is malformed)",
        13 => "cannot be written: the disk is full",
        14 => "cannot be opened for writing (is its directory writable?)",
        23 => "cannot be opened (permission denied)",
        26 => "not a SQLite database",
        _ => $"cannot be used ({e.Message})",
    };

    private static string Reason(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    /// <summary>SQLite's multi-line report ("*** in database main ***", then a line per problem) on one line, at most 200 characters.</summary>
    private static string OneLine(string? text)
    {
        var line = string.Join(' ', (text ?? "").Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= 200 ? line : line[..200] + "...";
    }
}
