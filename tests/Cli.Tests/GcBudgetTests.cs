using System.Text;

namespace HekiActors.Cli.Tests;

/// <summary>GcBudget's decisions and its reading of /proc/PID/cmdline and environ (the restart itself: GcBudgetProcessTests).</summary>
public sealed class GcBudgetTests
{
    [Theory]
    [InlineData(null, null, null, true)]
    [InlineData("", "", "", true)]
    [InlineData(null, null, "on", true)]
    [InlineData("0x2000000", null, null, false)]
    [InlineData(null, "0x2000000", null, false)]
    [InlineData(null, null, "off", false)]
    [InlineData(null, null, "Off", false)]
    [InlineData(null, null, "0", false)]
    [InlineData(null, null, "FALSE", false)]
    [InlineData(null, null, "No", false)]
    [InlineData(null, null, "yes", true)]
    [InlineData(null, null, "1", true)]
    [InlineData(null, null, null, false, "/tmp/trace.sock,suspend")]
    public void Heki_restarts_with_its_budget_only_when_no_budget_is_set_and_no_opt_out(string? dotnet, string? complus, string? optOut, bool restarts, string? diagnosticPorts = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_GCgen0size"] = dotnet,
            ["COMPlus_GCgen0size"] = complus,
            ["HEKI_GC_BUDGET"] = optOut,
            ["DOTNET_DiagnosticPorts"] = diagnosticPorts,
        };

        Assert.Equal(restarts, GcBudget.ShouldRestart(null, name => environment.GetValueOrDefault(name)));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(1, true)]
    [InlineData(300, true)]
    [InlineData(1_000, true)]
    [InlineData(1_001, false)]
    [InlineData(10_000, false)]
    public void Only_runs_of_at_most_1000_vms_get_the_budget(int? vms, bool restarts)
    {
        Assert.Equal(restarts, GcBudget.ShouldRestart(vms, _ => null));
    }

    [Theory]
    [InlineData("simulate", null)]
    [InlineData("simulate --vms 10000", 10_000)]
    [InlineData("simulate --vms=2000 --vcpus 1", 2_000)]
    [InlineData("simulate scenario.yaml --duration 2s --vms 50", 50)]
    [InlineData("simulate --vms", null)]
    [InlineData("simulate --vms many", null)]
    [InlineData("simulate --vms -5", null)]
    [InlineData("simulate -- --vms 5000", null)]
    [InlineData("simulate --vms:5000", 5_000)]
    [InlineData("simulate --vms +5000", 5_000)]
    [InlineData("simulate big.yaml", int.MaxValue)]
    [InlineData("simulate --duration 2s big.YML", int.MaxValue)]
    [InlineData("simulate @options.rsp", int.MaxValue)]
    [InlineData("simulate --vms 5 @options.rsp", int.MaxValue)]
    public void The_vm_count_is_read_from_the_command_line(string commandLine, int? vms)
    {
        Assert.Equal(vms, GcBudget.VmsOption(commandLine.Split(' ')));
    }

    [Fact]
    public void The_budget_is_written_as_the_runtime_reads_it_hexadecimal_bytes()
    {
        Assert.Equal("0x4000000", GcBudget.Hex(64));
        Assert.Equal("0x8000000", GcBudget.Hex(128));
    }

    [Fact]
    public void Command_line_entries_keep_empty_arguments_and_bytes_that_are_not_utf8()
    {
        byte[] cmdline = [.. "heki\0"u8, .. "replay\0"u8, 0, 0xff, 0xfe, 0];

        var entries = GcBudget.Entries(cmdline);

        Assert.Equal(4, entries.Length);
        Assert.Equal("heki", Encoding.UTF8.GetString(entries[0]));
        Assert.Equal("replay", Encoding.UTF8.GetString(entries[1]));
        Assert.Empty(entries[2]);
        Assert.Equal(new byte[] { 0xff, 0xfe }, entries[3]);
    }

    [Fact]
    public void The_restart_environment_keeps_every_variable_and_holds_the_budget_once()
    {
        byte[][] environment = [.. new[] { "PATH=/bin", "DOTNET_GCgen0size=", "HOME=/root", "HEKI_GC_BUDGET_RESTARTED=" }.Select(Encoding.UTF8.GetBytes), [0x41, 0x3d, 0xff]];

        var restart = GcBudget.WithBudget(environment).Select(Convert.ToHexString).ToList();

        // The marker lets the restarted process keep the budget from its children (a heki node keeps the runtime's).
        Assert.Equal(new[] { "PATH=/bin", "HOME=/root", "DOTNET_GCgen0size=0x8000000", "HEKI_GC_BUDGET_RESTARTED=1" }.Select(v => Convert.ToHexString(Encoding.UTF8.GetBytes(v))).Append("413DFF").Order(),
            restart.Order());
    }

    [Fact]
    public void A_block_without_a_final_nul_keeps_its_last_entry()
    {
        Assert.Equal(["A=1", "B=2"], GcBudget.Entries("A=1\0B=2"u8.ToArray()).Select(Encoding.UTF8.GetString));
        Assert.Empty(GcBudget.Entries([]));
    }

    [Theory]
    [InlineData("maybe", null, null, "HEKI_GC_BUDGET must be off, 0, false, no (start with the runtime's GC budget) or on, 1, true, yes (heki's), got 'maybe'")]
    [InlineData("of", null, null, "HEKI_GC_BUDGET must be ")]
    [InlineData(null, "zz", null, "DOTNET_GCgen0size must be the gen0 budget in hexadecimal bytes, more than 0 (e.g. 0x8000000 for 128 MiB), got 'zz', which the runtime would ignore")]
    [InlineData(null, "0", null, "DOTNET_GCgen0size must be ")]
    [InlineData(null, "0x0", null, "DOTNET_GCgen0size must be ")]
    [InlineData(null, "0x", null, "DOTNET_GCgen0size must be ")]
    [InlineData(null, "128M", null, "DOTNET_GCgen0size must be ")]
    [InlineData(null, "-0x10", null, "DOTNET_GCgen0size must be ")]
    [InlineData(null, null, "12 MB", "COMPlus_GCgen0size must be ")]
    public void A_GC_setting_heki_or_the_runtime_would_not_take_is_refused(string? optOut, string? dotnet, string? complus, string says)
    {
        var environment = new Dictionary<string, string?> { ["HEKI_GC_BUDGET"] = optOut, ["DOTNET_GCgen0size"] = dotnet, ["COMPlus_GCgen0size"] = complus };

        Assert.StartsWith(says, GcBudget.EnvironmentProblem(name => environment.GetValueOrDefault(name)));
    }

    [Theory]
    [InlineData(null, null, null, null)]
    [InlineData("", "", "", null)]
    [InlineData("OFF", null, null, null)]
    [InlineData(" no ", null, null, null)]
    [InlineData("on", "0x8000000", null, 0x8000000L)]
    [InlineData(null, "8000000", null, 0x8000000L)]
    [InlineData(null, "0X2000000", null, 0x2000000L)]
    [InlineData(null, null, "0x2000000", 0x2000000L)]
    [InlineData(null, "0x4000000", "0x2000000", 0x4000000L)]
    public void GC_settings_the_runtime_takes_are_accepted_and_their_budget_counted(string? optOut, string? dotnet, string? complus, long? budget)
    {
        var environment = new Dictionary<string, string?> { ["HEKI_GC_BUDGET"] = optOut, ["DOTNET_GCgen0size"] = dotnet, ["COMPlus_GCgen0size"] = complus };

        Assert.Null(GcBudget.EnvironmentProblem(name => environment.GetValueOrDefault(name)));
        Assert.Equal(budget, GcBudget.Budget(name => environment.GetValueOrDefault(name)));
    }
}
