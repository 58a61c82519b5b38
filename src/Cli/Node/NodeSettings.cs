using Akka.Actor;
using Akka.Configuration;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Input;
using HekiActors.Cli.Simulate;
using HekiActors.Observability;

namespace HekiActors.Cli.Node;

/// <summary>
/// What <c>heki node</c> runs with: from its options, over the <c>heki.node</c> section of a <c>--config</c> HOCON file,
/// over the defaults. <see cref="Akka"/> is the whole file, so any Akka setting in it applies to the node.
/// </summary>
internal sealed record NodeSettings(
    string Host,
    int Port,
    string? PublicHost,
    IReadOnlyList<string> SeedNodes,
    IReadOnlyList<string> Roles,
    JournalKind Journal,
    string? JournalConnection,
    int Shards,
    Config Akka)
{
    /// <summary>The node's telemetry (<c>--telemetry</c>, <c>--metrics-port</c>, or <c>heki.node.telemetry</c>, <c>heki.node.metrics-port</c>): off by default.</summary>
    public TelemetryOptions Telemetry { get; init; } = TelemetryOptions.Off;

    /// <summary>The actor system's name: part of every node's address, the same across the cluster.</summary>
    public const string SystemName = "heki";

    public const int DefaultPort = 4053;

    public const string PostgresName = "postgresql";

    public const string InMemoryName = "inmem";

    /// <summary>The largest shard count accepted (a shard is cheap, but each one is a coordinator entry and an actor).</summary>
    public const int MaxShards = 10_000;

    /// <summary>The options of the command line (null: not given).</summary>
    internal sealed record Given(
        string? ConfigFile, string? Host, int? Port, string? PublicHost, string[]? Seeds, string[]? Roles,
        string? Journal, string? JournalConnection, int? Shards, string? Telemetry = null, string? MetricsPort = null);

    /// <summary>The settings, or a one-line problem naming what is wrong.</summary>
    public static NodeSettings? Resolve(Given given, out string? problem)
    {
        problem = null;
        var file = Config.Empty;
        if (given.ConfigFile is { } path)
        {
            if (HoconFile.TryRead(path, "--config", out problem) is not { } read)
                return null;
            file = read;
        }

        var node = file.HasPath("heki.node") ? file.GetConfig("heki.node") : Config.Empty;
        // The key being read, so a value the file gets wrong is named (heki.node.port = "x" said only what HOCON expected).
        var key = "";
        T Read<T>(string name, Func<Config, T> read)
        {
            key = $".{name}";
            return read(node);
        }

        try
        {
            var settings = new NodeSettings(
                Host: given.Host ?? Read("host", c => c.GetString("host", "127.0.0.1")),
                Port: given.Port ?? Read("port", c => c.GetInt("port", DefaultPort)),
                PublicHost: given.PublicHost ?? Read("public-host", c => c.GetString("public-host", null)),
                SeedNodes: given.Seeds is { Length: > 0 } seeds ? seeds : [.. Read("seed-nodes", c => List(c, "seed-nodes"))],
                Roles: given.Roles is { Length: > 0 } roles ? roles : [.. Read("roles", c => List(c, "roles"))],
                Journal: JournalKind.InMemory,
                JournalConnection: given.JournalConnection ?? Read("journal-connection", c => c.GetString("journal-connection", null)),
                Shards: given.Shards ?? Read("shards", c => c.GetInt("shards", VmMessageExtractor.DefaultMaxShards)),
                Akka: file);
            var journal = given.Journal ?? Read("journal", c => c.GetString("journal", null)) ?? (settings.JournalConnection is null ? InMemoryName : PostgresName);
            problem = settings.Check(journal, new Names(given));
            if (problem is null)
            {
                try
                {
                    // The metrics of the VMs this node hosts, as heki simulate exports its own (docs/observability.md).
                    settings = settings with
                    {
                        Telemetry = TelemetryExporters.Options([], given.Telemetry ?? Read("telemetry", c => c.GetString("telemetry", null)),
                            given.MetricsPort ?? Read("metrics-port", c => c.GetString("metrics-port", null)), null, null, null) with { ServiceName = "heki-node" },
                    };
                }
                catch (UsageException e)
                {
                    problem = e.Message;
                }
            }

            return problem is null ? settings with { Journal = journal == PostgresName ? JournalKind.PostgreSql : JournalKind.InMemory } : null;
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            problem = $"--config {given.ConfigFile}: heki.node{key}: {HoconFile.OneLine(e.Message)}";
            return null;
        }
    }

    /// <summary>A list setting; a single value is refused (Akka reads <c>seed-nodes = "akka.tcp://..."</c> as no seeds at all).</summary>
    private static IList<string> List(Config section, string name) =>
        !section.HasPath(name) || section.GetValue(name).IsArray()
            ? section.GetStringList(name, [])
            : throw new ConfigurationException($"must be a list in brackets, e.g. {name} = [\"...\"]");

    /// <summary>How a problem names each setting: the option when it was given, else the file's key (options win over it).</summary>
    private sealed class Names(Given given)
    {
        private string Of(bool fromOption, string option, string key) =>
            fromOption || given.ConfigFile is null ? option : $"heki.node.{key} (--config {given.ConfigFile})";

        public string Host => Of(given.Host is not null, "--host", "host");
        public string Port => Of(given.Port is not null, "--port", "port");
        public string Shards => Of(given.Shards is not null, "--shards", "shards");
        public string Seed => Of(given.Seeds is { Length: > 0 }, "--seed", "seed-nodes");
        public string Role => Of(given.Roles is { Length: > 0 }, "--role", "roles");
        public string Journal => Of(given.Journal is not null, "--journal", "journal");
        public string Connection => Of(given.JournalConnection is not null, "--journal-connection", "journal-connection");
    }

    private string? Check(string journal, Names names)
    {
        if (string.IsNullOrWhiteSpace(Host))
            return $"{names.Host} must not be empty";
        if (string.IsNullOrWhiteSpace(PublicHost) && System.Net.IPAddress.TryParse(Host.Trim('[', ']'), out var bound)
            && (bound.Equals(System.Net.IPAddress.Any) || bound.Equals(System.Net.IPAddress.IPv6Any)))
        {
            // Akka advertises the host it binds unless told otherwise, and no node can reach, or be reached as, 0.0.0.0.
            return $"{names.Host} {Host} listens on every address but cannot be this node's address in the cluster: "
                   + "add --public-host HOST, the address other nodes and clients reach it at";
        }

        if (Port is < 0 or > 65535)
            return $"{names.Port} must be 0-65535 (0: a free one), got {Port}";
        if (Shards is < 1 or > MaxShards)
            return $"{names.Shards} must be 1-{MaxShards}, got {Shards}";
        foreach (var seed in SeedNodes)
        {
            if (AddressProblem(names.Seed, seed) is { } problem)
                return problem;
        }

        foreach (var role in Roles)
        {
            if (string.IsNullOrWhiteSpace(role) || role.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                return $"{names.Role} '{role}' must be a word without spaces";
        }

        return journal switch
        {
            PostgresName when string.IsNullOrWhiteSpace(JournalConnection) =>
                $"{names.Journal} postgresql needs --journal-connection 'Host=...;Port=...;Database=...;Username=...'",
            PostgresName when PostgresJournal.ConnectionStringProblem(JournalConnection) is { } malformed => $"{names.Connection}: {malformed}",
            PostgresName => null,
            InMemoryName when JournalConnection is not null => $"{names.Connection} is for --journal postgresql",
            InMemoryName => null,
            "sqlite" => "a cluster's nodes share one journal: use --journal postgresql (sqlite is the journal of a single heki simulate)",
            _ => $"{names.Journal} must be {PostgresName} or {InMemoryName}, got '{journal}'",
        };
    }

    /// <summary>Why <paramref name="address"/>, given as <paramref name="option"/>, is not a heki node's address; null if it is one.</summary>
    public static string? AddressProblem(string option, string address)
    {
        if (!ActorPath.TryParseAddress(address, out var parsed) || parsed.Host is null || parsed.Port is null)
            return $"{option} '{address}' is not a node address (akka.tcp://{SystemName}@HOST:PORT, as heki node prints it)";
        if (parsed.System != SystemName)
            return $"{option} '{address}' names actor system '{parsed.System}'; every heki node's is '{SystemName}'";
        return null;
    }
}
