using HekiActors.Cli.Input;

namespace HekiActors.Cli.Tests;

/// <summary>
/// A settings file that is not well-formed HOCON (heki node --config, --cluster-config of simulate, replay and chaos) is
/// named as a file that does not parse, with the line: Akka's parser took such text without a word (a cut-off value
/// became "Akka refuses akka.loglevel = &lt;&lt;unknown value&gt;&gt;", a stray brace or '=' was dropped) and looped,
/// its memory growing, on an unclosed list.
/// </summary>
public sealed class HoconFileSyntaxTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string? Problem(string text)
    {
        var file = _folder.File("node.conf");
        File.WriteAllText(file, text);
        var config = HoconFile.TryRead(file, "--config", out var problem);
        Assert.Equal(problem is null, config is not null);
        return problem?.Replace(file, "F");
    }

    [Theory]
    [InlineData("akka { loglevel = ", "line 1: loglevel has no value")]
    [InlineData("akka.loglevel = \n", "line 1: akka.loglevel has no value")]
    [InlineData("akka {\n  loglevel = INFO\n", "line 1: the '{' opened on this line is never closed")]
    [InlineData("akka {\n  loglevel = INFO\n}\n}\n", "line 4: '}' closes nothing")]
    [InlineData("akka.loglevel = INFO\n}\n", "line 2: '}' closes nothing")]
    [InlineData("akka {\n  loglevel = INFO\n]\n", "line 3: ']' where the section opened on line 1 needs '}'")]
    [InlineData("akka {\n  loggers = [ \"a\"\n}\n", "line 3: '}' where the list opened on line 2 needs ']'")]
    [InlineData("akka { cluster { roles = [a, }\n", "line 1: '}' where the list opened on line 1 needs ']'")]
    [InlineData("akka.loglevel = INFO =\n", "line 1: '=' after the value of akka.loglevel")]
    [InlineData("akka.loglevel = = INFO\n", "line 1: akka.loglevel has no value (a second '=')")]
    [InlineData("akka.loglevel == INFO\n", "line 1: akka.loglevel has no value (a second '=')")]
    [InlineData("= INFO\n", "line 1: '=' without a setting name before it")]
    [InlineData("akka {\n  = INFO\n}\n", "line 2: '=' without a setting name before it")]
    [InlineData("akka.loglevel INFO\n", "line 1: 'akka.loglevel INFO' has no '=' and no value")]
    [InlineData("akka { loglevel : }\n", "line 1: loglevel has no value")]
    [InlineData("akka.loglevel = \"INFO\n", "line 1: a quoted text is not closed on its line")]
    [InlineData("akka.loglevel = \"\"\"INFO\n", "line 1: the text opened with \"\"\" on this line is never closed")]
    [InlineData("akka.loglevel = ${X\n", "line 1: a ${ is not closed with '}' on its line")]
    [InlineData("akka { { loglevel = INFO } }\n", "line 1: '{' without a setting name before it")]
    [InlineData("akka. = INFO\n", "line 1: 'akka.' is not a setting name (an empty part between dots)")]
    [InlineData("akka..loglevel = INFO\n", "line 1: 'akka..loglevel' is not a setting name (an empty part between dots)")]
    [InlineData("akka.cluster.roles = [a,, b]\n", "line 1: a list holds ',' without a value before it")]
    [InlineData("akka.cluster.roles = [a b = c]\n", "line 1: '=' in a list where ',' or ']' belongs")]
    [InlineData("# settings\nakka {\n  # the log\n  loglevel = INFO\n  cluster {\n    roles = [\n      a\n", "line 6: the '[' opened on this line is never closed")]
    [InlineData("heki.node.roles = [\" a\", \"b\"]\n", "line 1: a list's element has white space at the start or end of its quoted text, which Akka's reader drops: remove it")]
    [InlineData("heki.node {\n  roles = [\n    \"b \"\n  ]\n}\n", "line 3: a list's element has white space at the start or end of its quoted text, which Akka's reader drops: remove it")]
    [InlineData("heki.node.journal = \" inmem\"\n", "line 1: heki.node.journal has white space at the start or end of its quoted text, which Akka's reader drops: remove it")]
    public void A_file_that_is_not_well_formed_is_named_with_its_line(string text, string says)
    {
        Assert.Equal($"--config F is not valid HOCON: {says}", Problem(text));
    }

    [Theory]
    [InlineData("akka.loglevel = INFO\n")]
    [InlineData("{\n  akka.loglevel = INFO\n}\n")]
    [InlineData("akka {\n  loglevel = \"INFO\" # the log\n  // a comment\n  cluster.split-brain-resolver { stable-after = 20s }\n}\n")]
    [InlineData("akka.loglevel =\n  INFO\n")]
    [InlineData("akka.loglevel : INFO, akka.stdout-loglevel : INFO\n")]
    [InlineData("akka.loggers = [\n  \"Akka.Event.DefaultLogger, Akka\",\n]\n")]
    [InlineData("akka.loggers = [\"Akka.Event.DefaultLogger, Akka\"]\nakka.loggers += \"Akka.Event.DefaultLogger, Akka\"\n")]
    [InlineData("akka.\"log-config-on-start\" = off\n")]
    [InlineData("akka.loglevel = \"\"\"INFO\"\"\"\n")]
    [InlineData("heki.node {\n  host = 10.0.0.11\n  port = 4053\n  seed-nodes = [\"akka.tcp://heki@10.0.0.11:4053\", \"akka.tcp://heki@10.0.0.12:4053\"]\n  journal-connection = \"Host=db.internal;Port=5432;Database=heki;Username=heki;Password=secret;Maximum Pool Size=20\"\n  shards = 100\n}\nakka.cluster.split-brain-resolver.stable-after = 20s\n")]
    [InlineData("heki.node.host = \"a\" \" b\"\n")]
    [InlineData("heki.node.host = \"\"\n")]
    [InlineData("heki.node.host = \" \"\n")]
    [InlineData("")]
    [InlineData("# nothing but a comment")]
    public void Well_formed_files_are_taken(string text)
    {
        Assert.Null(Problem(text));
    }

    [Theory]
    [InlineData("heki.node.port = 4053\ninclude \"other.conf\"\n", "line 2: ")]
    [InlineData("heki { include required(file(\"other.conf\")) }\n", "line 1: ")]
    public void An_include_is_refused(string text, string line)
    {
        Assert.Equal($"--config F is not valid HOCON: {line}include is not supported: put the settings in the file itself", Problem(text));
    }
}
