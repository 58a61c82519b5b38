using HekiActors.Simulation.Replay;
using HekiActors.Memory;

namespace HekiActors.Simulation.Tests;

public class ReplayParserTests
{
    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("4096", 4096UL)]
    public void Integers_up_to_2_to_the_64_minus_1_are_accepted(string json, ulong expected)
    {
        var parsed = ReplayParser.Parse($$"""{"op":"get_permissions","vm":"a","gfn":{{json}}}""");

        Assert.Null(parsed.Error);
        Assert.Equal(new GetPermissionsRequest("a", expected), parsed.Request);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("-0")]
    [InlineData("-1")]
    [InlineData("18446744073709551616")]
    [InlineData("99999999999999999999999")]
    [InlineData("true")]
    [InlineData("\"5\"")]
    [InlineData("[5]")]
    public void Anything_else_is_a_type_error_that_names_the_field(string json)
    {
        var parsed = ReplayParser.Parse($$"""{"op":"get_permissions","vm":"a","gfn":{{json}}}""");

        Assert.Null(parsed.Request);
        Assert.Equal($"field \"gfn\" must be an unsigned 64-bit integer, got {json}", parsed.Error);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(169, 1)]
    [InlineData(170, 2)]
    [InlineData(338, 2)]
    [InlineData(339, 3)]
    public void Ranges_are_packed_into_list_pages_of_169(int ranges, int pages)
    {
        var list = string.Join(',', Enumerable.Range(0, ranges).Select(i => $$"""{"pa":{{i * 4096}},"epa":{{(i + 1) * 4096}},"perm":1}"""));

        var parsed = ReplayParser.Parse($$"""{"op":"protect","vm":"a","vcpu":0,"ranges":[{{list}}]}""");

        var request = Assert.IsType<ProtectRequest>(parsed.Request);
        Assert.Equal(pages, request.ListPages.Length);
        Assert.Equal(ranges, request.ListPages.Sum(page => page.Length));
        Assert.All(request.ListPages, page => Assert.InRange(page.Length, 1, 169));
    }

    [Fact]
    public void List_pages_are_kept_as_given_even_beyond_169_ranges()
    {
        var list = string.Join(',', Enumerable.Repeat("""{"pa":0,"epa":4096,"perm":1}""", 170));

        var parsed = ReplayParser.Parse($$"""{"op":"protect","vm":"a","vcpu":0,"list_pages":[[],[{{list}}]],"cpl":2}""");

        var request = Assert.IsType<ProtectRequest>(parsed.Request);
        Assert.Equal([0, 170], request.ListPages.Select(page => page.Length));
        Assert.Equal(2, request.Cpl);
    }

    [Fact]
    public void Optional_fields_take_their_defaults()
    {
        Assert.Equal(new CreateVmRequest("a", 64, 2, Mbec: true, PrivateMemory: false),
            ReplayParser.Parse("""{"op":"create_vm","vm":"a","memory_mb":64,"vcpus":2}""").Request);
        Assert.Equal(new AccessRequest("a", 1, 8192, AccessKind.Exec, 0),
            ReplayParser.Parse("""{"op":"access","vm":"a","vcpu":1,"gpa":8192,"kind":"exec"}""").Request);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("   \t", true)]
    [InlineData("#", true)]
    [InlineData("  # indented", true)]
    [InlineData("{}", false)]
    [InlineData("x # not a comment", false)]
    public void Blank_and_hash_lines_are_skipped(string line, bool skipped) =>
        Assert.Equal(skipped, ReplayParser.IsSkipped(line));
}
