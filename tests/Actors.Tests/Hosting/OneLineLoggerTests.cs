using Akka.Event;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Vm;

namespace HekiActors.Actors.Tests.Hosting;

/// <summary>Akka's console lines for our actor systems (OneLineLogger): one line per event, the cause without its trace.</summary>
public sealed class OneLineLoggerTests
{
    private static Exception Thrown(Func<Exception> make)
    {
        try
        {
            throw make();
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [Fact]
    public void An_error_with_a_wrapped_cause_prints_one_line_with_the_outer_type_and_the_innermost_message()
    {
        var cause = Thrown(() => new AggregateException(new InvalidOperationException("outer", Thrown(() => new IOException("disk\nfull")))));
        var line = OneLineLogger.Format(new Error(cause, "TcpTransport (akka://heki)", typeof(object), "Failed to bind\nto port"));

        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain(" at ", line);
        Assert.StartsWith("[ERROR][", line);
        Assert.EndsWith("[TcpTransport (akka://heki)] Failed to bind to port (AggregateException, caused by IOException: disk full)", line);
    }

    [Fact]
    public void A_requested_crash_prints_its_message_once_without_a_stack_trace()
    {
        var crash = Thrown(() => new VmCrashException("VM 'vm-1' crashed on request: chaos"));
        var line = OneLineLogger.Format(new Error(crash, "akka://heki/user/vms/vm-1", typeof(object), "VM 'vm-1' crashed on request: chaos"));

        Assert.EndsWith("(VmCrashException: VM 'vm-1' crashed on request: chaos)", line);
        Assert.DoesNotContain("VmActor", line);
    }

    [Fact]
    public void A_warning_without_a_cause_is_its_level_time_source_and_message()
    {
        var line = OneLineLogger.Format(new Warning("akka://heki/system/cluster", typeof(object), "unreachable"));

        Assert.Matches(@"^\[WARNING\]\[\d\d:\d\d:\d\d\.\d{3}Z\]\[akka://heki/system/cluster\] unreachable$", line);
    }

    [Fact]
    public void A_message_whose_format_and_arguments_disagree_is_still_printed()
    {
        var line = OneLineLogger.Format(new Info("src", typeof(object), new OneArgumentShort()));

        Assert.EndsWith("[src] value {0} {1} [7]", line);
    }

    /// <summary>A log call with a placeholder more than its arguments (formatting it throws).</summary>
    private sealed class OneArgumentShort() : LogMessage(DefaultLogMessageFormatter.Instance, "value {0} {1}")
    {
        public override string ToString() => string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, 7);

        public override string Unformatted() => "7";

        public override IEnumerable<object> Parameters() => [7];
    }
}
