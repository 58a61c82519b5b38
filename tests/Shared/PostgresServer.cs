using System.Diagnostics;

namespace HekiActors.TestSupport;

/// <summary>
/// A throw-away PostgreSQL server for a test (compiled into each test project that needs one): the Debian binaries
/// <c>.ci/services</c> installs, a fresh data directory in the temporary folder, 127.0.0.1 on a free port, trust
/// authentication for user <c>postgres</c>. As root it runs as the <c>postgres</c> user (PostgreSQL refuses root).
/// Disposing stops it (immediate shutdown) and deletes the directory.
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string _bin;
    private bool _running;

    private PostgresServer(string bin, string directory, int port)
    {
        _bin = bin;
        Directory = directory;
        Port = port;
    }

    /// <summary>The data directory (also where the server's Unix socket goes).</summary>
    public string Directory { get; }

    public int Port { get; }

    /// <summary>An Npgsql connection string to database <paramref name="database"/> (made by <see cref="CreateDatabase"/>).</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Timeout=30;Command Timeout=60";

    /// <summary>Initialises a data directory and starts the server on a free port of 127.0.0.1.</summary>
    public static PostgresServer Start()
    {
        var bin = FindBinaries();
        var directory = System.IO.Directory.CreateTempSubdirectory("heki-pg-").FullName;
        var server = new PostgresServer(bin, directory, LoopbackPorts.Free());
        try
        {
            if (IsRoot)
                Run("chown", ["postgres:postgres", directory], asPostgres: false);
            server.Tool("initdb", ["-D", directory, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
            // fsync stays on: an acknowledged change must be on disk as in production (the tests kill processes, not the OS).
            server.Tool("pg_ctl", ["-D", directory, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60", "-o",
                $"-p {server.Port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=200", "start"]);
            server._running = true;
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Creates an empty database (one per test keeps tests apart on one server).</summary>
    public string CreateDatabase(string name)
    {
        Tool("createdb", ["-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", name]);
        return ConnectionString(name);
    }

    public void Dispose()
    {
        if (_running)
        {
            _running = false;
            try
            {
                Tool("pg_ctl", ["-D", Directory, "-m", "immediate", "-w", "-t", "30", "stop"]);
            }
            catch (InvalidOperationException)
            {
                // Already gone: nothing to stop.
            }
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private void Tool(string name, string[] args) => Run(Path.Combine(_bin, name), args, asPostgres: IsRoot);

    private static void Run(string program, string[] args, bool asPostgres)
    {
        var info = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var arg in new[] { "-u", "postgres", "--", program })
                info.ArgumentList.Add(arg);
        }

        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} did not finish within {CommandTimeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {output.Result}{error.Result}");
    }

    /// <summary>The newest PostgreSQL under /usr/lib/postgresql (Debian's layout).</summary>
    private static string FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        var bin = System.IO.Directory.Exists(root)
            ? System.IO.Directory.GetDirectories(root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): .ci/services installs Debian's postgresql");
    }
}
