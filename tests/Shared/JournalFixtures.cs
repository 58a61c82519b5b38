using Microsoft.Data.Sqlite;

namespace HekiActors.TestSupport;

/// <summary>
/// SQLite files for journal tests (compiled into each test project that needs them): a journal as
/// Akka.Persistence.Sql creates it, and any other database.
/// </summary>
internal static class JournalFixtures
{
    /// <summary>The tables Akka.Persistence.Sql 1.5.73 creates on SQLite (its own DDL, copied from a real journal).</summary>
    public const string Schema = """
        CREATE TABLE journal (ordering INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL, deleted Bit NOT NULL,
          persistence_id NVarChar(255) NOT NULL, sequence_number INTEGER NOT NULL, message VarBinary NOT NULL,
          manifest NVarChar(500) NULL, identifier INTEGER NULL, writer_uuid NVarChar(128) NULL);
        CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number);
        CREATE TABLE tags (ordering_id INTEGER NOT NULL, tag NVarChar(64) NOT NULL, sequence_nr INTEGER NOT NULL,
          persistence_id NVarChar(255) NOT NULL, CONSTRAINT PK_tags PRIMARY KEY (ordering_id, tag));
        CREATE TABLE snapshot (persistence_id NVarChar(255) NOT NULL, sequence_number INTEGER NOT NULL, created INTEGER NOT NULL,
          snapshot VarBinary NULL, manifest NVarChar(500) NULL, serializer_id INTEGER NULL,
          CONSTRAINT PK_snapshot PRIMARY KEY (persistence_id, sequence_number));
        """;

    /// <summary>Creates the database at <paramref name="path"/> and runs <paramref name="sql"/> in it.</summary>
    public static string Database(string path, string sql)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
        return path;
    }

    /// <summary>
    /// A journal whose first event of each of the first two simulated VMs (sim-00000, sim-00001) is four bytes of
    /// nonsense: sound as a file, unreadable as events.
    /// </summary>
    /// <param name="padding">Rows of filler, so that the file spans several pages.</param>
    public static string WithUnreadableEvent(string path, int padding = 0) => Database(path, Schema + """
        INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
          VALUES (1, 0, 'vm-sim-00000', 1, x'deadbeef', '', 1, 'w'), (2, 0, 'vm-sim-00001', 1, x'deadbeef', '', 1, 'w');
        """ + string.Concat(Enumerable.Range(0, padding).Select(i => $"INSERT INTO tags VALUES ({i}, '{new string('p', 40)}{i}', 1, 'pad');")));

    /// <summary>
    /// An empty journal whose event writes all fail (a trigger refuses them, as a full disk or a broken server would):
    /// sound as a file and holding no VM, so it passes every check before a run, and fails the run's first write.
    /// </summary>
    public static string WithFailingWrites(string path) => Database(path, Schema + """
        CREATE TRIGGER journal_refuses BEFORE INSERT ON journal BEGIN SELECT RAISE(FAIL, 'the disk is on fire'); END;
        """);
}
