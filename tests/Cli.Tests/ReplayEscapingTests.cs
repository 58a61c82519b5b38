using System.Text.Json;

namespace HekiActors.Cli.Tests;

/// <summary>
/// Control characters from a replay line are escaped the same way in every message (<see cref="Memory.Printable"/>):
/// a VM id in "no VM named", "already exists" or "has no vCPU" reads as an op name in "unknown op" does.
/// </summary>
public sealed class ReplayEscapingTests
{
    [Fact]
    public async Task Every_message_escapes_control_characters_of_the_line_alike()
    {
        var run = await ReplayHarness.Run("""
            {"op":"get_permissions","vm":"a\u001b[31m\n","gfn":0}
            {"op":"x\u001b[31m\n"}
            {"op":"create_vm","vm":"\t","memory_mb":16,"vcpus":1}
            {"op":"create_vm","vm":"\t","memory_mb":16,"vcpus":1}
            {"op":"access","vm":"\t","vcpu":3,"gpa":0,"kind":"read"}
            """, "hardened");

        var errors = run.Stdout.Select(line => JsonDocument.Parse(line).RootElement).Where(e => e.TryGetProperty("error", out _))
            .Select(e => e.GetProperty("error").GetString()!).ToArray();
        Assert.Equal([
            "no VM named 'a\\u001b[31m\\n'",
            "unknown op \"x\\u001b[31m\\n\"",
            "VM '\\t' already exists",
            "VM '\\t' has no vCPU 3 (it has 1)",
        ], errors);
    }
}
