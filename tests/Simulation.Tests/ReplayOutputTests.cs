using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests;

public class ReplayOutputTests
{
    private readonly ReplayOutput _output = new(TextWriter.Null);

    [Fact]
    public void Unsigned_64_bit_values_print_as_plain_integers()
    {
        Assert.Equal("""{"line":1,"value":18446744073709551615}""", _output.Format(1, new ValueResult(ulong.MaxValue)));
        Assert.Equal("""{"line":2,"attributes":18446744073709551615}""", _output.Format(2, new AttributesResult(ulong.MaxValue)));
        Assert.Equal("""{"line":3,"attr":15}""", _output.Format(3, new AttrResult(15)));
    }

    [Fact]
    public void Ret_is_signed()
    {
        Assert.Equal("""{"line":7,"ret":-22}""", _output.Format(7, new RetResult(-22)));
        Assert.Equal("""{"line":7,"ret":1}""", _output.Format(7, new RetResult(1)));
    }

    [Fact]
    public void Errors_are_escaped_json_strings_that_stay_readable()
    {
        Assert.Equal("""{"line":9,"error":"unknown op \"a\\b\" for VM 'x' <é>"}""",
            _output.Format(9, new ErrorResult("unknown op \"a\\b\" for VM 'x' <é>")));
    }
}
