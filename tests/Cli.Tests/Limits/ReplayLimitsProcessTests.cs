namespace HekiActors.Cli.Tests.Limits;

/// <summary>issue 8, items 9 and 10, on the built <c>heki replay</c>: invalid UTF-8 and over-long lines are errors for
/// their line, the lines after them run, and memory stays bounded (the child's heap is capped at 1 GiB).</summary>
public sealed class ReplayLimitsProcessTests
{
    [Fact]
    public void Ids_that_differ_only_in_invalid_UTF8_never_name_one_VM()
    {
        byte[] input =
        [
            .. "{\"op\":\"create_vm\",\"vm\":\"b"u8, 0xFF, .. "\",\"memory_mb\":64,\"vcpus\":1}\n"u8,
            // Before the fix "b\xfe" decoded to the same "b\uFFFD" and reached the VM created above.
            .. "{\"op\":\"set_permissions\",\"vm\":\"b"u8, 0xFE, .. "\",\"start\":0,\"end\":1,\"attr\":8}\n"u8,
            .. "{\"op\":\"create_vm\",\"vm\":\"b\",\"memory_mb\":64,\"vcpus\":1}\n"u8,
        ];

        var result = HekiProcess.Run(["replay", "-"], stdin: input);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
        [
            """{"line":1,"error":"line is not valid UTF-8 (byte 0xFF at byte 26)"}""",
            """{"line":2,"error":"line is not valid UTF-8 (byte 0xFE at byte 32)"}""",
            """{"line":3,"ok":true}""",
        ], Lines(result.Output));
    }

    [Fact]
    public void A_line_of_1_2_GB_is_an_error_and_the_next_line_runs()
    {
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)'x');

        var result = HekiProcess.Run(["replay", "-"], workingDirectory: null, writeStdin: input =>
        {
            input.Write("{\"op\":\"create_vm\",\"vm\":\"a\",\"memory_mb\":64,\"vcpus\":1}\n"u8);
            for (var i = 0; i < 1_200_000_000 / chunk.Length; i++)
                input.Write(chunk);
            input.Write("\n{\"op\":\"read_cr\",\"vm\":\"a\",\"vcpu\":0,\"cr\":0}\n"u8);
        }, timeout: TimeSpan.FromMinutes(3));

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("OutOfMemory", result.Error);
        Assert.Equal(
        [
            """{"line":1,"ok":true}""",
            """{"line":2,"error":"line is longer than 16,777,216 bytes (the replay format's limit); it was skipped"}""",
            """{"line":3,"value":0}""",
        ], Lines(result.Output));
    }

    [Fact]
    public void A_replay_file_is_read_as_bytes_too()
    {
        using var folder = new TempFolder();
        var path = folder.File("ids.jsonl");
        File.WriteAllBytes(path, [.. "\uFEFF{\"op\":\"create_vm\",\"vm\":\"\u00e9\",\"memory_mb\":64,\"vcpus\":1}\r\n"u8,
            .. "{\"op\":\"destroy_vm\",\"vm\":\""u8, 0xE9, .. "\"}\r\n"u8]);

        var result = HekiProcess.Run(["replay", path]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(["""{"line":1,"ok":true}""", """{"line":2,"error":"line is not valid UTF-8 (byte 0xE9 at byte 26)"}"""], Lines(result.Output));
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
