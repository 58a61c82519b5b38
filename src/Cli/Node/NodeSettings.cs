using Akka.Actor;
using Akka.Configuration;
using HekiActors.Actors.Hosting;
using HekiActors.Cli.Input;
using HekiActors.Cli.Simulate;
using HekiActors.Observability;

namespace HekiActors.Cli.Node;

/// <summary>
/// What <c>heki node</c> runs with: from its options, over the <c>heki.node</c> section of a <c>--config</c> HOCON file,
/// over the defaults. <see cref="Akka"/> is the whole file, so its Akka settings apply to the node (those heki sets itself
/// were refused when it was read: <see cref="Input.HekiOwnedSettings"/>).
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

    /// <summary>The longest role accepted, in characters (Akka.Hosting writes each into Akka's settings text: a 100 KB one never started).</summary>
    public const int MaxRoleLength = 100;

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

        var node = NodeFileSection.Of(file);
        var settings = new NodeSettings(
            Host: given.Host ?? node.Text("host") ?? "127.0.0.1",
            Port: given.Port ?? node.Int("port", "0-65535") ?? DefaultPort,
            PublicHost: given.PublicHost ?? node.Text("public-host"),
            SeedNodes: given.Seeds is { Length: > 0 } seeds ? seeds : node.List("seed-nodes") ?? [],
            // Akka's roles are a list: "--role a,b" is two roles, as "--role a --role b" (a file lists them: roles = ["a", "b"]).
            // Not trimmed: "--role ' a'" is refused as a role with a space, as roles = [" a"] is.
            Roles: given.Roles is { Length: > 0 } roles ? [.. roles.SelectMany(r => r.Split(','))] : node.List("roles") ?? [],
            Journal: JournalKind.InMemory,
            JournalConnection: given.JournalConnection ?? node.Text("journal-connection"),
            Shards: given.Shards ?? node.Int("shards", $"1-{MaxShards}") ?? VmMessageExtractor.DefaultMaxShards,
            Akka: file);
        var journal = given.Journal ?? node.Text("journal") ?? (settings.JournalConnection is null ? InMemoryName : PostgresName);
        var telemetry = given.Telemetry ?? node.Text("telemetry");
        var metricsPort = given.MetricsPort ?? node.Text("metrics-port");
        if (node.Problem is { } fileProblem)
        {
            problem = $"--config {given.ConfigFile}: {HoconFile.OneLine(fileProblem)}";
            return null;
        }

        var names = new Names(given);
        problem = settings.Check(journal, names);
        if (problem is not null)
            return null;
        try
        {
            // The metrics of the VMs this node hosts, as heki simulate exports its own (docs/observability.md).
            settings = settings with
            {
                Telemetry = TelemetryExporters.Options([], telemetry, metricsPort, null, null, null) with { ServiceName = "heki-node" },
            };
        }
        catch (UsageException e)
        {
            // The exporters' checks name the options; a value from the file is named by its key.
            problem = names.Rename(e.Message);
            return null;
        }

        return settings with { Journal = journal == PostgresName ? JournalKind.PostgreSql : JournalKind.InMemory };
    }

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
        public string PublicHost => Of(given.PublicHost is not null, "--public-host", "public-host");

        /// <summary><paramref name="message"/> with a leading <c>--telemetry</c> or <c>--metrics-port</c> named as the file's key when the value came from it.</summary>
        public string Rename(string message)
        {
            foreach (var (option, key, fromOption) in new[] { ("--telemetry", "telemetry", given.Telemetry is not null), ("--metrics-port", "metrics-port", given.MetricsPort is not null) })
            {
                if (message.StartsWith(option + " ", StringComparison.Ordinal))
                    return Of(fromOption, option, key) + message[option.Length..];
            }

            return message;
        }
    }

    private string? Check(string journal, Names names)
    {
        if (string.IsNullOrWhiteSpace(Host))
            return $"{names.Host} must not be empty";
        if (PublicHost is not null && string.IsNullOrWhiteSpace(PublicHost))
            return $"{names.PublicHost} must not be empty";
        if ((HostNameProblem(names.Host, Host) ?? (PublicHost is null ? null : HostNameProblem(names.PublicHost, PublicHost))) is { } badHost)
            return badHost;
        if (PublicHost is not null && IsWildcard(PublicHost))
            return $"{names.PublicHost} {PublicHost} is no address other nodes can reach: give the address they reach this node at";
        if (PublicHost is null && IsWildcard(Host))
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
            if (role.Length == 0)
                return $"{names.Role} has an empty role: give ROLE, or several as ROLE,ROLE";
            if (role.Contains(','))
                return $"{names.Role} '{role}' holds a comma: list each role on its own, roles = [\"{string.Join("\", \"", role.Split(','))}\"]";
            if (role.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                return $"{names.Role} '{role}' must be a word without spaces";
            if (role.Length > MaxRoleLength)
                return $"{names.Role} '{role}' is longer than {MaxRoleLength} characters";
            // Akka.Hosting writes the roles into Akka's settings text as they are: '}', '#', '"', '[' or '${' there made
            // the node hang with its memory growing, or start with other roles than asked.
            if (!role.All(IsRoleCharacter))
                return $"{names.Role} '{role}' must be a word of letters, digits, '-', '_' and '.'";
        }

        return journal switch
        {
            PostgresName when string.IsNullOrWhiteSpace(JournalConnection) =>
                $"{names.Journal} postgresql needs --journal-connection 'Host=...;Port=...;Database=...;Username=...'",
            PostgresName when PostgresJournal.ConnectionStringProblem(JournalConnection) is { } malformed => $"{names.Connection}: {malformed}",
            PostgresName => null,
            InMemoryName when JournalConnection is not null => $"{names.Connection} is for --journal postgresql",
            InMemoryName => null,
            "sqlite" => $"{names.Journal} sqlite: a cluster's nodes share one journal: use --journal postgresql (sqlite is the journal of a single heki simulate)",
            _ => $"{names.Journal} must be {PostgresName} or {InMemoryName}, got '{journal}'",
        };
    }

    /// <summary>A role's characters: those Akka's settings text takes unquoted (a role is written into it as it is).</summary>
    private static bool IsRoleCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    /// <summary>Why <paramref name="host"/> is no host name or IP address (RFC 1123 name, IPv4, IPv6 with or without brackets); null if it is one.</summary>
    private static string? HostNameProblem(string option, string host) =>
        Uri.CheckHostName(host.Length > 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6
            ? null
            : $"{option} '{host}' is not a host name or IP address";

    /// <summary>0.0.0.0 or :: (every address of the machine): what a node may bind, never what it is reached at.</summary>
    private static bool IsWildcard(string host) =>
        System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address)
        && (address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any));

    /// <summary>Why <paramref name="address"/>, given as <paramref name="option"/>, is not a heki node's address; null if it is one.</summary>
    public static string? AddressProblem(string option, string address)
    {
        var notAnAddress = $"{option} '{address}' is not a node address (akka.tcp://{SystemName}@HOST:PORT, as heki node prints it)";
        // Checked as a URI first: Akka's parser throws on a port over 65535 (UriFormatException out of TryParseAddress), takes
        // any scheme (akka://, whose transport a node does not load) and ignores a path after the address.
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme != "akka.tcp"
            || uri.Port is < 1 or > 65535 || string.IsNullOrEmpty(uri.Host) || uri.AbsolutePath is not ("" or "/")
            || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return notAnAddress;
        Address? parsed;
        try
        {
            if (!ActorPath.TryParseAddress(address, out parsed) || parsed.Host is null || parsed.Port is null)
                return notAnAddress;
        }
        catch (UriFormatException)
        {
            return notAnAddress;
        }

        if (parsed.System != SystemName)
            return $"{option} '{address}' names actor system '{parsed.System}'; every heki node's is '{SystemName}'";
        return null;
    }
}
