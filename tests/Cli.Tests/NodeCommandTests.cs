using HekiActors.Actors.Hosting;
using HekiActors.Cli.Node;

namespace HekiActors.Cli.Tests;

/// <summary>
/// <c>heki node</c>'s settings: options over the config file's <c>heki.node</c> section over the defaults, and every bad
/// value named in one line before anything starts (docs/cluster.md).
/// </summary>
public sealed class NodeCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static NodeSettings.Given Options(string? config = null, string? host = null, int? port = null, string[]? seeds = null,
        string? journal = null, string? connection = null, int? shards = null, string[]? roles = null, string? telemetry = null,
        string? metricsPort = null) =>
        new(config, host, port, null, seeds, roles, journal, connection, shards, telemetry, metricsPort);

    [Fact]
    public void Defaults_are_a_loopback_node_on_4053_with_the_in_memory_journal_and_100_shards()
    {
        var settings = NodeSettings.Resolve(Options(), out var problem);
        Assert.Null(problem);
        Assert.Equal(("127.0.0.1", 4053, JournalKind.InMemory, 100), (settings!.Host, settings.Port, settings.Journal, settings.Shards));
        Assert.Empty(settings.SeedNodes);
    }

    [Fact]
    public void The_config_file_gives_the_settings_and_options_win_over_it()
    {
        var file = _folder.File("node.conf");
        File.WriteAllText(file, """
            heki.node {
              host = 10.0.0.11
              port = 5000
              seed-nodes = ["akka.tcp://heki@10.0.0.11:5000", "akka.tcp://heki@10.0.0.12:5000"]
              roles = [edge]
              journal-connection = "Host=db;Database=heki;Username=heki"
              shards = 40
            }
            akka.cluster.split-brain-resolver.stable-after = 7s
            """);
        var fromFile = NodeSettings.Resolve(Options(config: file), out var problem)!;
        Assert.Null(problem);
        Assert.Equal(("10.0.0.11", 5000, JournalKind.PostgreSql, 40), (fromFile.Host, fromFile.Port, fromFile.Journal, fromFile.Shards));
        Assert.Equal(["akka.tcp://heki@10.0.0.11:5000", "akka.tcp://heki@10.0.0.12:5000"], fromFile.SeedNodes);
        Assert.Equal(["edge"], fromFile.Roles);
        Assert.Equal(TimeSpan.FromSeconds(7), fromFile.Akka.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));

        var overridden = NodeSettings.Resolve(Options(config: file, port: 6000, seeds: ["akka.tcp://heki@127.0.0.1:6000"], shards: 12), out _)!;
        Assert.Equal((6000, 12), (overridden.Port, overridden.Shards));
        Assert.Equal(["akka.tcp://heki@127.0.0.1:6000"], overridden.SeedNodes);
    }

    [Theory]
    [InlineData("sqlite", null, "--journal sqlite: a cluster's nodes share one journal: use --journal postgresql")]
    [InlineData("postgresql", null, "--journal postgresql needs --journal-connection")]
    [InlineData("inmem", "Host=db", "--journal-connection is for --journal postgresql")]
    [InlineData("oracle", null, "--journal must be postgresql or inmem, got 'oracle'")]
    public void A_journal_a_cluster_cannot_share_is_refused(string journal, string? connection, string says)
    {
        Assert.Null(NodeSettings.Resolve(Options(journal: journal, connection: connection), out var problem));
        Assert.StartsWith(says, problem);
    }

    [Theory]
    [InlineData("127.0.0.1:4053", "is not a node address")]
    [InlineData("akka.tcp://other@127.0.0.1:4053", "names actor system 'other'")]
    [InlineData("akka.tcp://heki@127.0.0.1", "is not a node address")]
    [InlineData("akka.tcp://heki@127.0.0.1:99999", "is not a node address")]
    [InlineData("akka.tcp://heki@127.0.0.1:70000", "is not a node address")]
    [InlineData("akka.tcp://heki@127.0.0.1:0", "is not a node address")]
    [InlineData("akka://heki@127.0.0.1:4053", "is not a node address")]
    [InlineData("akka.udp://heki@127.0.0.1:4053", "is not a node address")]
    [InlineData("akka.tcp://heki@127.0.0.1:4053/user/x", "is not a node address")]
    [InlineData("akka.tcp://heki@127.0.0.1:4053?x=1", "is not a node address")]
    [InlineData("akka.tcp://heki@:4053", "is not a node address")]
    public void A_seed_that_is_not_a_heki_node_address_is_refused(string seed, string says)
    {
        Assert.Null(NodeSettings.Resolve(Options(seeds: [seed]), out var problem));
        Assert.Contains(says, problem);
    }

    [Theory]
    [InlineData(-1, null, "--port must be 0-65535")]
    [InlineData(65536, null, "--port must be 0-65535")]
    [InlineData(null, 0, "--shards must be 1-10000")]
    [InlineData(null, 10_001, "--shards must be 1-10000")]
    public void Ports_and_shard_counts_out_of_range_are_refused(int? port, int? shards, string says)
    {
        Assert.Null(NodeSettings.Resolve(Options(port: port, shards: shards), out var problem));
        Assert.StartsWith(says, problem);
    }

    [Fact]
    public void A_config_file_that_is_missing_or_not_HOCON_is_named()
    {
        Assert.Null(NodeSettings.Resolve(Options(config: _folder.File("missing.conf")), out var missing));
        Assert.StartsWith($"--config {_folder.File("missing.conf")}:", missing);

        var bad = _folder.File("bad.conf");
        File.WriteAllText(bad, "heki.node { port = \"many\" }");
        Assert.Null(NodeSettings.Resolve(Options(config: bad), out var problem));
        Assert.StartsWith($"--config {bad}: heki.node.port:", problem);

        var garbage = _folder.File("garbage.conf");
        File.WriteAllText(garbage, "this is not a settings file\n<html>\n");
        Assert.Null(NodeSettings.Resolve(Options(config: garbage), out var garbageProblem));
        Assert.Equal($"--config {garbage} is not valid HOCON: line 1: 'this is not a settings file' has no '=' and no value", garbageProblem);

        var include = _folder.File("include.conf");
        File.WriteAllText(include, "heki { include \"other.conf\" }\n");
        Assert.Null(NodeSettings.Resolve(Options(config: include), out var includeProblem));
        Assert.Equal($"--config {include} is not valid HOCON: line 1: include is not supported: put the settings in the file itself", includeProblem);

        var binary = _folder.File("binary.conf");
        File.WriteAllBytes(binary, [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, .. Enumerable.Repeat((byte)0, 400)]);
        Assert.Null(NodeSettings.Resolve(Options(config: binary), out var binaryProblem));
        Assert.StartsWith($"--config {binary}", binaryProblem);
        Assert.True(binaryProblem!.Length < binary.Length + 260, binaryProblem);
        Assert.DoesNotContain(binaryProblem, char.IsControl);

        var role = NodeSettings.Resolve(Options(roles: ["two words"]), out var roleProblem);
        Assert.Null(role);
        Assert.Equal("--role 'two words' must be a word without spaces", roleProblem);
    }

    [Theory]
    [InlineData("port = \"x\"", "heki.node.port: must be an integer 0-65535, got 'x'")]
    [InlineData("port = true", "heki.node.port: must be an integer 0-65535, got 'true'")]
    [InlineData("port = [1, 2]", "heki.node.port: must be a single value, not a list or a section")]
    [InlineData("port = 99999999999", "heki.node.port: must be an integer 0-65535, got '99999999999'")]
    [InlineData("shards = [1, 2]", "heki.node.shards: must be a single value, not a list or a section")]
    [InlineData("shards = 2147483648", "heki.node.shards: must be an integer 1-10000, got '2147483648'")]
    [InlineData("host = [a, b]", "heki.node.host: must be a single value, not a list or a section")]
    [InlineData("host = { a = 1 }", "heki.node.host: must be a single value, not a list or a section")]
    [InlineData("journal-connection = [a]", "heki.node.journal-connection: must be a single value, not a list or a section")]
    [InlineData("journal = [inmem]", "heki.node.journal: must be a single value, not a list or a section")]
    [InlineData("telemetry = [prometheus]", "heki.node.telemetry: must be a single value, not a list or a section")]
    [InlineData("seed-nodes = 7", "heki.node.seed-nodes: must be a list in brackets")]
    [InlineData("seed-nodes = \"akka.tcp://heki@10.0.0.1:4053\"", "heki.node.seed-nodes: must be a list in brackets")]
    [InlineData("seed-nodes = [[\"akka.tcp://heki@10.0.0.1:4053\"]]", "heki.node.seed-nodes: must be a list of single values")]
    [InlineData("roles = edge", "heki.node.roles: must be a list in brackets")]
    [InlineData("hots = 1.2.3.4", "heki.node.hots: is not a setting (heki.node's settings: host, public-host, port,")]
    [InlineData("journal = inmem, jounral-connection = \"Host=x\"", "heki.node.jounral-connection: is not a setting")]
    [InlineData("telemetry = \"\"", "heki.node.telemetry: must have a value, got an empty one")]
    [InlineData("host = \" \"", "heki.node.host: must have a value, got an empty one")]
    [InlineData("journal-connection = \"\"", "heki.node.journal-connection: must have a value, got an empty one")]
    public void A_config_file_value_of_the_wrong_type_names_its_key(string line, string names)
    {
        var file = _folder.File("typed.conf");
        File.WriteAllText(file, $"heki.node {{ {line} }}");
        Assert.Null(NodeSettings.Resolve(Options(config: file), out var problem));
        Assert.StartsWith($"--config {file}: {names}", problem);
    }

    [Fact]
    public void Roles_given_as_a_comma_separated_option_are_several_roles()
    {
        var settings = NodeSettings.Resolve(Options(roles: ["edge,gpu", "batch"]), out var problem);
        Assert.Null(problem);
        Assert.Equal(["edge", "gpu", "batch"], settings!.Roles);
        // Not trimmed: a space is refused wherever it is (roles are [A-Za-z0-9._-]).
        Assert.Null(NodeSettings.Resolve(Options(roles: ["edge, gpu"]), out var spaced));
        Assert.Equal("--role ' gpu' must be a word without spaces", spaced);
    }

    [Theory]
    [InlineData("a,,b", "--role has an empty role: give ROLE, or several as ROLE,ROLE")]
    [InlineData("a,", "--role has an empty role: give ROLE, or several as ROLE,ROLE")]
    [InlineData("a b", "--role 'a b' must be a word without spaces")]
    [InlineData(" a", "--role ' a' must be a word without spaces")]
    [InlineData("a ", "--role 'a ' must be a word without spaces")]
    [InlineData("a,\tb", "--role '\tb' must be a word without spaces")]
    public void A_role_option_with_an_empty_part_or_a_space_is_refused(string role, string says)
    {
        Assert.Null(NodeSettings.Resolve(Options(roles: [role]), out var problem));
        Assert.Equal(says, problem);
    }

    [Theory]
    [InlineData("a}")]
    [InlineData("a#b")]
    [InlineData("[a")]
    [InlineData("a]")]
    [InlineData("a//b")]
    [InlineData("a\"")]
    [InlineData("\"a\"")]
    [InlineData("${HOME}")]
    [InlineData("a=b")]
    [InlineData("a:b")]
    [InlineData("a;b")]
    [InlineData("\u00e9t\u00e9")]
    public void A_role_with_a_character_outside_letters_digits_dash_underscore_and_dot_is_refused_as_option_and_in_the_file(string role)
    {
        // Akka's settings text takes a role as it is: such a role hung the node with its memory growing, or gave other roles.
        Assert.Null(NodeSettings.Resolve(Options(roles: [role]), out var problem));
        Assert.Equal($"--role '{role}' must be a word of letters, digits, '-', '_' and '.'", problem);

        var file = _folder.File("odd-role.conf");
        File.WriteAllText(file, $"heki.node.roles = [{System.Text.Json.JsonSerializer.Serialize(role)}]");
        Assert.Null(NodeSettings.Resolve(Options(config: file), out var fromFile));
        Assert.Equal($"heki.node.roles (--config {file}) '{role}' must be a word of letters, digits, '-', '_' and '.'", fromFile);
    }

    [Fact]
    public void A_role_of_letters_digits_dash_underscore_and_dot_is_taken()
    {
        Assert.Equal(["edge-1", "gpu_2.x"], NodeSettings.Resolve(Options(roles: ["edge-1,gpu_2.x"]), out _)!.Roles);
    }

    [Theory]
    [InlineData("a}", null)]
    [InlineData(null, "a}")]
    [InlineData(null, "a#b")]
    [InlineData("host name", null)]
    [InlineData("127.0.0.1", "[::1")]
    public void A_host_or_public_host_that_is_no_host_name_or_ip_address_is_refused(string? host, string? publicHost)
    {
        Assert.Null(NodeSettings.Resolve(new NodeSettings.Given(null, host, null, publicHost, null, null, null, null, null), out var problem));
        var (option, value) = host is "127.0.0.1" or null ? ("--public-host", publicHost) : ("--host", host);
        Assert.Equal($"{option} '{value}' is not a host name or IP address", problem);
    }

    [Theory]
    [InlineData("localhost", null)]
    [InlineData("node-1.example.internal", null)]
    [InlineData("::1", null)]
    [InlineData("[::1]", null)]
    [InlineData("127.0.0.1", "10.0.0.5")]
    public void A_host_name_or_ip_address_is_taken_as_host_or_public_host(string host, string? publicHost)
    {
        Assert.NotNull(NodeSettings.Resolve(new NodeSettings.Given(null, host, null, publicHost, null, null, null, null, null), out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void A_role_in_the_file_that_holds_a_comma_is_refused_naming_the_list_to_write_instead()
    {
        var file = _folder.File("roles.conf");
        File.WriteAllText(file, "heki.node.roles = [\"edge,gpu\"]");
        Assert.Null(NodeSettings.Resolve(Options(config: file), out var problem));
        Assert.Equal($"heki.node.roles (--config {file}) 'edge,gpu' holds a comma: list each role on its own, roles = [\"edge\", \"gpu\"]", problem);
    }

    [Theory]
    [InlineData("heki = 5", "heki: must be a section")]
    [InlineData("heki.node = 5", "heki.node: must be a section")]
    [InlineData("heki.node = [1]", "heki.node: must be a section")]
    [InlineData("heki.nodes { port = 1 }", "heki.nodes: is not a setting of heki node")]
    public void A_config_file_whose_heki_section_is_not_heki_nodes_is_refused(string text, string says)
    {
        var file = _folder.File("shape.conf");
        File.WriteAllText(file, text);
        Assert.Null(NodeSettings.Resolve(Options(config: file), out var problem));
        Assert.StartsWith($"--config {file}: {says}", problem);
    }

    [Theory]
    [InlineData("telemetry = bogus", "heki.node.telemetry (--config F) ")]
    [InlineData("metrics-port = \"x\", telemetry = prometheus", "heki.node.metrics-port (--config F) ")]
    [InlineData("public-host = \"0.0.0.0\"", "heki.node.public-host (--config F) 0.0.0.0 is no address other nodes can reach")]
    public void Telemetry_and_public_host_values_from_the_file_are_named_by_their_keys(string line, string says)
    {
        var file = _folder.File("named.conf");
        File.WriteAllText(file, $"heki.node {{ {line} }}");
        Assert.Null(NodeSettings.Resolve(Options(config: file), out var problem));
        Assert.StartsWith(says.Replace("--config F", $"--config {file}"), problem);
    }

    [Fact]
    public void A_public_host_that_is_empty_or_every_address_is_refused()
    {
        Assert.Null(NodeSettings.Resolve(new NodeSettings.Given(null, "0.0.0.0", null, "0.0.0.0", null, null, null, null, null), out var wildcard));
        Assert.Equal("--public-host 0.0.0.0 is no address other nodes can reach: give the address they reach this node at", wildcard);
        Assert.Null(NodeSettings.Resolve(new NodeSettings.Given(null, null, null, "", null, null, null, null, null), out var empty));
        Assert.Equal("--public-host must not be empty", empty);
    }

    [Theory]
    [InlineData("port = 70000", "heki.node.port (--config F) must be 0-65535 (0: a free one), got 70000")]
    [InlineData("shards = 0", "heki.node.shards (--config F) must be 1-10000, got 0")]
    [InlineData("roles = [\"a b\"]", "heki.node.roles (--config F) 'a b' must be a word without spaces")]
    [InlineData("journal = oracle", "heki.node.journal (--config F) must be postgresql or inmem, got 'oracle'")]
    [InlineData("journal-connection = \"Host=db;Nonsense=1\"", "heki.node.journal-connection (--config F): not a PostgreSQL connection string: ")]
    public void A_bad_value_from_the_config_file_is_named_as_the_files_key_not_as_an_option(string line, string says)
    {
        var file = _folder.File("values.conf");
        File.WriteAllText(file, $"heki.node {{ {line} }}");
        Assert.Null(NodeSettings.Resolve(Options(config: file), out var problem));
        Assert.StartsWith(says.Replace("--config F", $"--config {file}"), problem);

        // The same value given as an option is named as the option.
        Assert.Null(NodeSettings.Resolve(Options(config: file, port: -1), out var option));
        Assert.StartsWith("--port must be 0-65535", option);
    }

    [Theory]
    [InlineData("Host=db;Nonsense=1", "--journal-connection: not a PostgreSQL connection string: ")]
    [InlineData("just some words", "--journal-connection: not a PostgreSQL connection string: ")]
    [InlineData("Database=heki;Username=heki", "--journal-connection: not a PostgreSQL connection string: it names no Host")]
    [InlineData("Host=127.0.0.1;Port=99999;Database=heki", "--journal-connection: not a PostgreSQL connection string: Port must be 1-65535, got 99999")]
    [InlineData("Host=127.0.0.1;Port=0;Database=heki", "--journal-connection: not a PostgreSQL connection string: ")]
    public void A_malformed_journal_connection_is_refused_before_anything_starts(string connection, string says)
    {
        Assert.Null(NodeSettings.Resolve(Options(connection: connection), out var problem));
        Assert.StartsWith(says, problem);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("[::]")]
    public void Binding_every_address_needs_a_public_host(string host)
    {
        Assert.Null(NodeSettings.Resolve(Options(host: host), out var problem));
        Assert.Equal($"--host {host} listens on every address but cannot be this node's address in the cluster: "
                     + "add --public-host HOST, the address other nodes and clients reach it at", problem);

        var advertised = NodeSettings.Resolve(new NodeSettings.Given(null, host, null, "10.0.0.5", null, null, null, null, null), out var none);
        Assert.Null(none);
        Assert.Equal("10.0.0.5", advertised!.PublicHost);
    }

    [Fact]
    public void Telemetry_is_off_unless_asked_for_by_option_or_config_file_and_options_win()
    {
        Assert.Equal(Observability.TelemetryOptions.Off with { ServiceName = "heki-node" }, NodeSettings.Resolve(Options(), out _)!.Telemetry);

        var prometheus = NodeSettings.Resolve(Options(telemetry: "prometheus"), out var problem)!.Telemetry;
        Assert.Null(problem);
        Assert.Equal((9464, "heki-node"), (prometheus.PrometheusPort, prometheus.ServiceName));

        var file = _folder.File("telemetry.conf");
        File.WriteAllText(file, "heki.node { telemetry = \"otlp,prometheus\", metrics-port = 9471 }");
        var fromFile = NodeSettings.Resolve(Options(config: file), out _)!.Telemetry;
        Assert.Equal((true, 9471), (fromFile.Otlp, fromFile.PrometheusPort));
        Assert.Equal(9472, NodeSettings.Resolve(Options(config: file, metricsPort: "9472"), out _)!.Telemetry.PrometheusPort);
    }

    [Theory]
    [InlineData("jaeger", null, "--telemetry ")]
    [InlineData(null, "0", "--metrics-port must be a port number from 1 to 65535, got 0")]
    [InlineData(null, "http", "--metrics-port must be a port number from 1 to 65535, got http")]
    public void Bad_telemetry_options_are_named_and_nothing_starts(string? telemetry, string? metricsPort, string says)
    {
        Assert.Null(NodeSettings.Resolve(Options(telemetry: telemetry, metricsPort: metricsPort), out var problem));
        Assert.StartsWith(says, problem);
    }
    [Theory]
    [InlineData("akka.remote.dot-netty.tcp.port = -5", "akka.remote.dot-netty.tcp.port", "use heki node --port or heki.node.port")]
    [InlineData("akka.remote.dot-netty.tcp.port = 4060", "akka.remote.dot-netty.tcp.port", "use heki node --port or heki.node.port")]
    [InlineData("akka.remote.dot-netty.tcp { hostname = 10.0.0.1 }", "akka.remote.dot-netty.tcp.hostname", "use heki node --host or heki.node.host")]
    [InlineData("akka.remote.dot-netty.tcp.public-hostname = example.org", "akka.remote.dot-netty.tcp.public-hostname", "use heki node --public-host or heki.node.public-host")]
    [InlineData("akka.cluster.seed-nodes = [\"akka.tcp://heki@127.0.0.1:4053\"]", "akka.cluster.seed-nodes", "use heki node --seed or heki.node.seed-nodes")]
    [InlineData("akka.cluster.roles = [edge]", "akka.cluster.roles", "use heki node --role or heki.node.roles")]
    [InlineData("akka.actor.provider = local", "akka.actor.provider", "heki's nodes and clients are always cluster members")]
    [InlineData("akka.cluster.split-brain-resolver.active-strategy = static-quorum", "akka.cluster.split-brain-resolver.active-strategy", "heki's resolver always keeps the majority")]
    [InlineData("akka.cluster.split-brain-resolver.keep-majority.role = edge", "akka.cluster.split-brain-resolver.keep-majority", "heki's resolver always counts the nodes of role vm")]
    public void An_Akka_setting_heki_sets_itself_is_refused_in_the_file_naming_what_sets_it(string line, string path, string instead)
    {
        var file = _folder.File("node.conf", $"akka.cluster.split-brain-resolver.stable-after = 7s\n{line}\n");

        // With or without the option: heki's own value would win over the file's either way (Akka.Hosting puts it on top).
        Assert.Null(NodeSettings.Resolve(Options(config: file), out var problem));
        Assert.StartsWith($"--config {file}: {path} is set by heki itself (the file's value would not be used): {instead}", problem);
        Assert.Null(NodeSettings.Resolve(Options(config: file, port: 4061), out var withOption));
        Assert.Equal(problem, withOption);
    }

    [Fact]
    public void The_Akka_settings_heki_leaves_to_the_file_are_taken()
    {
        var file = _folder.File("node.conf", """
            akka.remote.dot-netty.tcp.public-port = 14053
            akka.remote.dot-netty.tcp.maximum-frame-size = 256000b
            akka.cluster.split-brain-resolver { stable-after = 7s, down-all-when-unstable = off }
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 10s
            """);

        var settings = NodeSettings.Resolve(Options(config: file), out var problem);

        Assert.Null(problem);
        Assert.Equal(14053, settings!.Akka.GetInt("akka.remote.dot-netty.tcp.public-port"));
    }

    [Fact]
    public void A_role_longer_than_100_characters_is_refused()
    {
        // A 100 KB role passed every check and the node never started (Akka.Hosting writes it into Akka's settings text).
        Assert.Equal(["r" + new string('x', 99)], NodeSettings.Resolve(Options(roles: ["r" + new string('x', 99)]), out _)!.Roles);
        Assert.Null(NodeSettings.Resolve(Options(roles: [new string('x', 101)]), out var problem));
        Assert.EndsWith("' is longer than 100 characters", problem);
    }
}
