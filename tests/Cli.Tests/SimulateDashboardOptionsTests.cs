using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HekiActors.Cli.Tests;

/// <summary><c>--dashboard [PORT]</c> and <c>--html FILE</c>: how they are read, refused, and what the report file holds.</summary>
public sealed class SimulateDashboardOptionsTests
{
    [Fact]
    public void Dashboard_without_a_port_serves_on_a_free_port_and_prints_the_url()
    {
        var (code, _, error) = Samples.Run(new FakeSimulationEngine(), "--dashboard", "--no-progress");
        Assert.Equal(0, code);
        Assert.Matches(@"dashboard: live page at http://127\.0\.0\.1:\d+/", error);
    }

    [Fact]
    public void Dashboard_followed_by_a_scenario_file_takes_the_file_as_the_scenario()
    {
        using var folder = new TempFolder();
        var scenario = folder.File("three.yaml", "vms: 3\n");
        var engine = new FakeSimulationEngine();
        var (code, _, error) = Samples.Run(engine, "--dashboard", scenario, "--no-progress");
        Assert.True(code == 0, error);
        Assert.Equal(3, Assert.Single(engine.Runs).Vms);
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("-1")]
    [InlineData("http")]
    public void Dashboard_with_a_value_that_is_no_port_is_a_usage_error(string port)
    {
        using var folder = new TempFolder();
        var scenario = folder.File("s.yaml", "vms: 3\n");
        var engine = new FakeSimulationEngine();
        var (code, _, error) = Samples.Run(engine, scenario, "--dashboard", port);
        Assert.Equal(2, code);
        Assert.Contains("--dashboard", error);
        Assert.Empty(engine.Runs);
    }

    [Fact]
    public void Dashboard_and_metrics_on_one_port_is_a_usage_error()
    {
        var engine = new FakeSimulationEngine();
        var (code, _, error) = Samples.Run(engine, "--dashboard", "19464", "--metrics-port", "19464");
        Assert.Equal(2, code);
        Assert.Contains("both want port 19464", error);
        Assert.Empty(engine.Runs);
    }

    [Theory]
    [InlineData("--report")]
    [InlineData("--record")]
    public void Html_over_another_output_is_refused_before_anything_runs(string option)
    {
        using var folder = new TempFolder();
        var path = folder.File("out.html");
        var engine = new FakeSimulationEngine();
        var (code, _, error) = Samples.Run(engine, "--html", path, option, path);
        Assert.Equal(2, code);
        Assert.Contains("same file", error);
        Assert.Empty(engine.Runs);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Html_over_the_scenario_file_is_refused_and_the_file_kept()
    {
        using var folder = new TempFolder();
        var scenario = folder.File("s.yaml", "vms: 3\n");
        var (code, _, error) = Samples.Run(new FakeSimulationEngine(), scenario, "--html", scenario);
        Assert.Equal(2, code);
        Assert.Contains("scenario file", error);
        Assert.Equal("vms: 3\n", File.ReadAllText(scenario));
    }

    [Fact]
    public void Html_in_a_missing_folder_is_refused()
    {
        var (code, _, error) = Samples.Run(new FakeSimulationEngine(), "--html", "/nonexistent-heki/r.html");
        Assert.Equal(2, code);
        Assert.Contains("--html", error);
    }

    [Theory]
    [InlineData("--dashboard")]
    [InlineData("--metrics-port")]
    public void A_port_in_use_stops_the_command_before_the_run_in_one_line_and_keeps_an_earlier_recording(string option)
    {
        using var folder = new TempFolder();
        var record = folder.File("run.jsonl", "an earlier recording\n");
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
            var engine = new FakeSimulationEngine();
            var (code, _, error) = Samples.Run(engine, option, port, "--record", record, "--no-progress");
            Assert.Equal(1, code);
            Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("heki simulate: ", error);
            Assert.Empty(engine.Runs);
            Assert.Equal("an earlier recording\n", File.ReadAllText(record));
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public void Html_to_standard_output_is_refused()
    {
        var engine = new FakeSimulationEngine();
        var (code, _, error) = Samples.Run(engine, "--html", "-");
        Assert.Equal(2, code);
        Assert.Contains("--html needs a file name", error);
        Assert.Empty(engine.Runs);
    }

    [Theory]
    [InlineData("--html", "/proc/heki-no-such.html")]
    [InlineData("--report", "/proc/heki-no-such.json")]
    [InlineData("--record", "/proc/heki-no-such.jsonl")]
    public void An_output_that_cannot_be_created_is_refused_before_the_run_not_lost_after_it(string option, string path)
    {
        var engine = new FakeSimulationEngine();
        var (code, _, error) = Samples.Run(engine, option, path, "--no-progress");
        Assert.Equal(2, code);
        Assert.Equal($"heki simulate: {option} cannot write {path}: a file cannot be created there", error.Split('\n')[0]);
        Assert.Empty(engine.Runs);
    }

    [Fact]
    public void The_html_report_is_one_file_that_loads_nothing_and_carries_the_json_report_itself()
    {
        using var folder = new TempFolder();
        var html = folder.File("r.html");
        var json = folder.File("r.json");
        var (code, _, error) = Samples.Run(new FakeSimulationEngine(), "--profile", "both", "--html", html, "--report", json, "--seed", "42");
        Assert.True(code == 0, error);
        Assert.Contains($"HTML report written to {html}", error);
        var page = File.ReadAllText(html);

        // Nothing to fetch: no external scripts, styles or images, and a policy that forbids them.
        Assert.DoesNotMatch(new Regex(@"<(script|img|link|iframe)[^>]+(src|href)=", RegexOptions.IgnoreCase), page);
        Assert.Contains("default-src 'none'", page);
        Assert.DoesNotContain("connect-src 'self'", page);

        var feedText = Regex.Match(page, "<script id=\"heki-feed\" type=\"application/json\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;
        var feed = JsonNode.Parse(feedText)!;
        Assert.Equal("done", (string?)feed["state"]);
        Assert.Equal("42", (string?)feed["seed"]);
        Assert.Contains("--seed 42", (string?)feed["command"]);
        Assert.Equal(2, feed["runs"]!.AsArray().Count);
        // The figures are the JSON report's, not a copy computed again.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(json)), feed["report"]), "the embedded report differs from --report's");
    }

    [Fact]
    public void The_reproduce_command_quotes_what_the_shell_would_split()
    {
        using var folder = new TempFolder();
        var html = folder.File("r r.html");
        var (code, _, error) = Samples.Run(new FakeSimulationEngine(), "--html", html);
        Assert.True(code == 0, error);
        var page = File.ReadAllText(html);
        var feedText = Regex.Match(page, "<script id=\"heki-feed\" type=\"application/json\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;
        using var feed = JsonDocument.Parse(feedText);
        Assert.Equal($"heki simulate --html '{html}'", feed.RootElement.GetProperty("command").GetString());
    }
}
