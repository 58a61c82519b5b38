namespace HekiActors.Actors.Hosting;

/// <summary>Where VM events and snapshots are stored.</summary>
public enum JournalKind
{
    /// <summary>In process memory: nothing to install, gone with the process.</summary>
    InMemory = 0,

    /// <summary>A SQLite file (Akka.Persistence.Sql): VMs survive a process restart.</summary>
    Sqlite = 1,

    /// <summary>A PostgreSQL database (Akka.Persistence.Sql with Npgsql): shared by the nodes of a cluster.</summary>
    PostgreSql = 2,
}
