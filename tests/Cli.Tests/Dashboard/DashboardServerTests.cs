using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using HekiActors.Cli.Dashboard;
using HekiActors.Simulation;
using HekiActors.Simulation.Live;

namespace HekiActors.Cli.Tests.Dashboard;

/// <summary>
/// The live page's server on its own: loopback only, GET only, a Host that is not this address refused (DNS
/// rebinding), a feed that sends only the points a page lacks, and the wait for a watching page's final fetch.
/// </summary>
public sealed class DashboardServerTests : IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private readonly LiveSession _session = new(new RunDescription("heki simulate --dashboard", "default", null, 1, "2 VMs", []));
    private readonly HttpClient _http = new(new HttpClientHandler { UseProxy = false }) { Timeout = Long };
    private DashboardServer _server = null!;
    private SimulationLiveRecorder _run = null!;

    public Task InitializeAsync()
    {
        _run = _session.StartRun(SimulationSpec.Default());
        _server = DashboardServer.Start(_session, 0);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _http.Dispose();
        _session.Dispose();
    }

    [Fact]
    public async Task The_page_is_served_on_127_0_0_1_with_a_policy_that_allows_no_other_origin()
    {
        Assert.Equal("127.0.0.1", _server.Url.Host);
        using var response = await _http.GetAsync(_server.Url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("<!DOCTYPE html>", page);
        Assert.Contains("Content-Security-Policy", page);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("127.0.0.1:1")]
    [InlineData("attacker.example:{port}")]
    public async Task A_request_for_another_host_is_refused(string host)
    {
        using var response = await GetFeedAsHostAsync(host);
        // HttpListener itself answers 404 to a Host no prefix names; what reaches the server gets 421. Never the feed.
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.MisdirectedRequest, HttpStatusCode.NotFound });
        Assert.DoesNotContain("heki-dashboard-feed", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, _server.FeedRequests);
    }

    [Theory]
    [InlineData("127.0.0.1:{port}")]
    [InlineData("localhost:{port}")]
    public async Task The_loopback_names_of_this_port_are_served(string host)
    {
        using var response = await GetFeedAsHostAsync(host);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Only_get_is_answered()
    {
        using var response = await _http.PostAsync(new Uri(_server.Url, "api/feed"), new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task A_vm_without_events_and_an_unknown_path_are_not_found()
    {
        using var vm = await _http.GetAsync(new Uri(_server.Url, "api/vm?run=0&id=sim-00001"));
        Assert.Equal(HttpStatusCode.NotFound, vm.StatusCode);
        using var bad = await _http.GetAsync(new Uri(_server.Url, "api/vm?run=x&id=sim-00001"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var other = await _http.GetAsync(new Uri(_server.Url, "etc/passwd"));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task A_poll_gets_only_the_points_the_page_lacks()
    {
        _run.Report(new SimulationProgress("run", 2, 2, 1_000, 0, 0, 0, TimeSpan.FromSeconds(1), 0.5));
        using var first = JsonDocument.Parse(await _http.GetStringAsync(new Uri(_server.Url, "api/feed")));
        var timeline = first.RootElement.GetProperty("runs")[0].GetProperty("timeline");
        var (epoch, count) = (timeline.GetProperty("epoch").GetInt32(), timeline.GetProperty("count").GetInt32());
        Assert.Equal(count, timeline.GetProperty("t").GetArrayLength());
        Assert.True(first.RootElement.TryGetProperty("charts", out _), "a full feed carries the charts");

        using var again = JsonDocument.Parse(await _http.GetStringAsync(new Uri(_server.Url, $"api/feed?since={epoch}:{count}")));
        var slice = again.RootElement.GetProperty("runs")[0].GetProperty("timeline");
        Assert.Equal(count, slice.GetProperty("from").GetInt32());
        Assert.Equal(0, slice.GetProperty("t").GetArrayLength());
        Assert.False(again.RootElement.TryGetProperty("charts", out _), "an update carries no chart definitions");
    }

    [Fact]
    public async Task With_no_page_watching_the_command_does_not_wait_for_a_final_fetch()
    {
        _session.Finish("{}", stoppedEarly: false);
        Assert.True(await _server.WaitForFinalFetchAsync(TimeSpan.FromSeconds(30), Long, CancellationToken.None).WaitAsync(Long));
    }

    [Fact]
    public async Task A_page_that_stopped_polling_is_taken_as_closed()
    {
        await _http.GetStringAsync(new Uri(_server.Url, "api/feed"));
        _session.Finish("{}", stoppedEarly: false);
        // It never polls again: given up once it has been silent for the "gone" time, not at the (long) timeout.
        Assert.False(await _server.WaitForFinalFetchAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromHours(1), CancellationToken.None).WaitAsync(Long));
    }

    [Fact]
    public async Task A_watching_page_is_waited_for_until_it_has_the_final_figures()
    {
        await _http.GetStringAsync(new Uri(_server.Url, "api/feed"));
        _session.Finish("""{"runs":[]}""", stoppedEarly: false);
        var waiting = _server.WaitForFinalFetchAsync(Long, Long, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        using var final = JsonDocument.Parse(await _http.GetStringAsync(new Uri(_server.Url, "api/feed?since=0:1")));
        Assert.Equal("done", final.RootElement.GetProperty("state").GetString());
        Assert.True(await waiting.WaitAsync(Long));
    }

    /// <summary>GET /api/feed with <paramref name="host"/> as the Host header ("{port}" is the server's port).</summary>
    private async Task<HttpResponseMessage> GetFeedAsHostAsync(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_server.Url, "api/feed"));
        request.Headers.Host = host.Replace("{port}", _server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await _http.SendAsync(request);
    }

    [Fact]
    public void A_port_in_use_is_an_error_naming_it()
    {
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            Assert.Throws<HttpListenerException>(() => DashboardServer.Start(_session, ((IPEndPoint)taken.LocalEndpoint).Port));
        }
        finally
        {
            taken.Stop();
        }
    }
}
