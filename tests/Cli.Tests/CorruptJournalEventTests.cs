using System.Text.Json;
using HekiActors.Cli.Journal;
using HekiActors.TestSupport;

namespace HekiActors.Cli.Tests;

/// <summary>
/// A journal is input: every field of a stored event is checked before it becomes model values (an unknown profile,
/// a shape the model never allows, permission bits beyond the defined ones, a vCPU or CR out of range, a wrong-typed
/// field). <c>heki journal</c> says which VM and event, naming the field, exit 1, with a whole JSON document;
/// <c>heki simulate --resume</c> refuses the same journal with exit 2 before anything runs.
/// </summary>
public sealed class CorruptJournalEventTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Configured = """{"Config":{"MemoryPages":4096,"VcpuCount":2,"Mbec":true,"PrivateMemory":false,"Profile":0},"RequestId":"d94b4ea8-4511-029a-e75f-ad3f1325319e"}""";

    public static TheoryData<string, string, string, string> CorruptEvents => new()
    {
        { "heki.VmConfiguredEvent.v1", Configured.Replace("\"Profile\":0", "\"Profile\":7"), "event 2 (VmConfiguredEvent) is corrupt: field Config.Profile is 7: not a profile (0 hardened, 1 heki-v2)", "profile" },
        { "heki.VmConfiguredEvent.v1", Configured.Replace("4096", "9223372036854775807"), "event 2 (VmConfiguredEvent) is corrupt: field Config.MemoryPages is 9223372036854775807: not a whole number of MiB in 1..2^44 MiB", "memory" },
        { "heki.VmConfiguredEvent.v1", Configured.Replace("\"VcpuCount\":2", "\"VcpuCount\":5000"), "event 2 (VmConfiguredEvent) is corrupt: field Config.VcpuCount is 5000: outside 1..4096", "vcpus" },
        { "heki.VmConfiguredEvent.v1", Configured.Replace("4096", "-1"), "event 2 (heki.VmConfiguredEvent.v1) cannot be read: field Config.MemoryPages: a value of another type, or out of its type's range", "type" },
        { "heki.PermissionsChangedEvent.v1", """{"RequestId":"d94b4ea8-4511-029a-e75f-ad3f1325319f","Changes":[{"StartGfn":1,"EndGfn":2,"Permissions":256}],"Ret":0}""", "event 2 (PermissionsChangedEvent) is corrupt: field Changes[0].Permissions is 0x100: bits beyond READ|WRITE|EXEC|IMMUTABLE (0xf)", "perm" },
        { "heki.CrWrittenEvent.v1", """{"RequestId":"d94b4ea8-4511-029a-e75f-ad3f1325319f","Vcpu":9,"Cr":0,"Value":1}""", "event 2 (CrWrittenEvent) is corrupt: field Vcpu is 9: the VM has vCPUs 0..1", "vcpu" },
        { "heki.CrPinnedEvent.v1", """{"RequestId":"d94b4ea8-4511-029a-e75f-ad3f1325319f","Cr":3,"Pin":1}""", "event 2 (CrPinnedEvent) is corrupt: field Cr is 3: only CR0 and CR4 are pinned", "cr" },
    };

    /// <summary>VM sim-00000 created sound (event 1), then <paramref name="payload"/> as event 2.</summary>
    private string Journal(string name, string manifest, string payload) =>
        JournalFixtures.Database(_folder.File(name), JournalFixtures.Schema + $"""
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
              VALUES (1, 0, 'vm-sim-00000', 1, CAST('{Configured}' AS BLOB), 'heki.VmConfiguredEvent.v1', 1710, 'w');
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
              VALUES (2, 0, 'vm-sim-00000', 2, CAST('{payload}' AS BLOB), '{manifest}', 1710, 'w');
            """);

    [Theory]
    [MemberData(nameof(CorruptEvents))]
    public async Task Heki_journal_names_the_VM_the_event_and_the_field_with_status_1(string manifest, string payload, string says, string name)
    {
        var path = Journal(name + ".db", manifest, payload);
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };

        var status = await JournalCommand.RunAsync(path, false, null, output, error, CancellationToken.None);

        Assert.Equal(ExitCodes.Failed, status);
        Assert.Equal($"heki journal: journal {path}: VM sim-00000: {says}\n", error.ToString());
    }

    [Theory]
    [MemberData(nameof(CorruptEvents))]
    public async Task The_JSON_listing_stays_one_whole_document_carrying_the_error(string manifest, string payload, string says, string name)
    {
        var path = Journal(name + ".db", manifest, payload);
        var output = new StringWriter { NewLine = "\n" };

        var status = await JournalCommand.RunAsync(path, true, null, output, new StringWriter(), CancellationToken.None);

        Assert.Equal(ExitCodes.Failed, status);
        using var doc = JsonDocument.Parse(output.ToString());
        Assert.Equal($"VM sim-00000: {says}", doc.RootElement.GetProperty("error").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("vms").GetArrayLength());
    }

    [Theory]
    [MemberData(nameof(CorruptEvents))]
    public void Simulate_resume_refuses_the_journal_with_status_2_before_anything_runs(string manifest, string payload, string says, string name)
    {
        var path = Journal(name + ".db", manifest, payload);
        var engine = new FakeSimulationEngine();

        var (code, _, error) = Samples.Run(engine, ["--vms", "1", "--vcpus", "2", "--memory-mb", "16", "--kernel", "synthetic", "--sqlite-path", path,
            "--no-progress", "--resume"]);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"heki simulate: journal {path}: VM sim-00000: {says}\n", error.ReplaceLineEndings("\n"));
        Assert.Empty(engine.Runs);
    }

    [Fact]
    public async Task Control_characters_of_a_VM_id_are_escaped_in_the_text_listing()
    {
        var path = JournalFixtures.Database(_folder.File("evil.db"), JournalFixtures.Schema + $"""
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
              VALUES (1, 0, 'vm-a' || char(10) || 'b' || char(27) || '[31m', 1, CAST('{Configured}' AS BLOB), 'heki.VmConfiguredEvent.v1', 1710, 'w');
            """);
        var output = new StringWriter { NewLine = "\n" };

        var status = await JournalCommand.RunAsync(path, false, null, output, new StringWriter(), CancellationToken.None);

        Assert.Equal(ExitCodes.Ok, status);
        Assert.StartsWith("VM a\\nb\\u001b[31m: hardened, 2 vCPUs x 16 MiB", output.ToString());
        Assert.DoesNotContain('\u001b', output.ToString());
    }
}
