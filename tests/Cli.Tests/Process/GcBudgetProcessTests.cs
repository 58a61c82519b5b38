using System.Net.Sockets;
using System.Text;

namespace HekiActors.Cli.Tests;

/// <summary>
/// heki starts with its gen0 budget (GcBudget): the process restarts itself in place (same pid) with
/// DOTNET_GCgen0size added, unless the user set the variable or opted out with HEKI_GC_BUDGET=off.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class GcBudgetProcessTests : IDisposable
{
    private const string CreateVm = """{"op":"create_vm","vm":"a","memory_mb":64,"vcpus":2}""";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Heki_runs_with_its_gen0_budget_in_the_process_that_was_started()
    {
        using var heki = HekiProcess.Start(_folder.Path, "replay", "-");

        var environment = EnvironmentOnceAnswering(heki);

        Assert.Equal([$"DOTNET_GCgen0size={GcBudget.Hex(GcBudget.Mebibytes)}"], environment.Where(v => v.Contains("GCgen0size", StringComparison.Ordinal)));
        heki.StandardInput.Close();
        Assert.Equal(0, heki.WaitForExit()); // the pid the parent started is the one that answered, and it exits normally
        Assert.Equal("{\"line\":1,\"ok\":true}\n", heki.Stdout);
    }

    [Fact]
    public void The_restarted_heki_accepts_diagnostics_tools_on_its_own_socket()
    {
        using var heki = HekiProcess.Start(_folder.Path, "replay", "-");
        EnvironmentOnceAnswering(heki);

        // The runtime's diagnostics socket (dotnet-trace, dotnet-counters, dotnet-gcdump attach through it) is named by
        // pid and start time, which the restart keeps: the first runtime's must have made way for the second's.
        var socket = Assert.Single(Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{heki.Id}-*-socket"));
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(socket));
        heki.StandardInput.Close();
        Assert.Equal(0, heki.WaitForExit());
    }

    [Theory]
    [InlineData("DOTNET_GCgen0size=0x2000000", "DOTNET_GCgen0size=0x2000000")]
    [InlineData("COMPlus_GCgen0size=0x2000000", "COMPlus_GCgen0size=0x2000000")]
    [InlineData("HEKI_GC_BUDGET=off", null)]
    [InlineData("HEKI_GC_BUDGET=OFF", null)]
    [InlineData("HEKI_GC_BUDGET=0", null)]
    [InlineData("HEKI_GC_BUDGET=False", null)]
    [InlineData("HEKI_GC_BUDGET=no", null)]
    public void A_budget_the_user_set_or_an_opt_out_is_left_as_it_is(string setting, string? expected)
    {
        using var heki = HekiProcess.Shell(_folder.Path, $"{setting} exec $HEKI replay -");

        var environment = EnvironmentOnceAnswering(heki);

        Assert.Equal(expected is null ? [] : [expected], environment.Where(v => v.Contains("GCgen0size", StringComparison.Ordinal)));
        heki.StandardInput.Close();
        Assert.Equal(0, heki.WaitForExit());
    }

    [Theory]
    [InlineData("HEKI_GC_BUDGET=maybe", "heki: HEKI_GC_BUDGET must be off, 0, false, no ")]
    [InlineData("DOTNET_GCgen0size=zz", "heki: DOTNET_GCgen0size must be the gen0 budget in hexadecimal bytes")]
    [InlineData("COMPlus_GCgen0size=0", "heki: COMPlus_GCgen0size must be the gen0 budget in hexadecimal bytes")]
    public void A_GC_setting_that_would_not_be_taken_stops_heki_in_one_line_before_anything_runs(string setting, string says)
    {
        using var heki = HekiProcess.Shell(_folder.Path, $"{setting} exec $HEKI replay -");
        heki.StandardInput.WriteLine(CreateVm);
        heki.StandardInput.Close();

        Assert.Equal(2, heki.WaitForExit());
        Assert.Equal("", heki.Stdout);
        Assert.StartsWith(says, Assert.Single(heki.Stderr.TrimEnd('\n').Split('\n')));
    }

    /// <summary>The environment of the running heki once it answered a line (so it is past any restart).</summary>
    private static string[] EnvironmentOnceAnswering(HekiProcess heki)
    {
        heki.StandardInput.WriteLine(CreateVm);
        heki.StandardInput.Flush();
        heki.WaitForOutput("{\"line\":1,\"ok\":true}", onStderr: false);
        return Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{heki.Id}/environ")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }
}
