using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HekiActors.Cli.Dashboard;

/// <summary>
/// Serves the live page of a <see cref="LiveSession"/> on 127.0.0.1 with the BCL's <see cref="HttpListener"/>:
/// <c>GET /</c> the page, <c>GET /api/feed[?since=E:N,...]</c> the data (<see cref="DashboardFeed"/>),
/// <c>GET /api/vm?run=R&amp;id=VM</c> one VM's recent events. Loopback only, GET only, and a request whose
/// Host is not this loopback address is refused (a web page elsewhere cannot read the run through DNS rebinding).
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly LiveSession _session;
    private readonly byte[] _page;
    private readonly Task _loop;
    private readonly TaskCompletionSource _finalServed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _feedRequests;
    private long _lastFeedRequest; // Stopwatch timestamp of the last /api/feed answer

    private DashboardServer(HttpListener listener, int port, LiveSession session)
    {
        _listener = listener;
        _session = session;
        Port = port;
        _page = Encoding.UTF8.GetBytes(DashboardPage.Live(session.About.Command));
        _loop = Task.Run(AcceptAsync);
    }

    /// <summary>The port it listens on (the one asked for, or the free one it took for 0).</summary>
    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <summary>Feed requests answered so far (a page is watching when this grows).</summary>
    public long FeedRequests => Interlocked.Read(ref _feedRequests);

    /// <summary>Starts serving; <paramref name="port"/> 0 takes a free port.</summary>
    /// <exception cref="HttpListenerException">The port is taken (or not allowed).</exception>
    public static DashboardServer Start(LiveSession session, int port)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        for (var attempt = 0; ; attempt++)
        {
            var chosen = port == 0 ? FreePort() : port;
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{chosen}/");
            // The same loopback socket, for a browser pointed at localhost:PORT (HttpListener matches prefixes by Host).
            listener.Prefixes.Add($"http://localhost:{chosen}/");
            try
            {
                listener.Start();
                return new DashboardServer(listener, chosen, session);
            }
            catch (HttpListenerException) when (port == 0 && attempt < 5)
            {
                // Another process took the free port between the probe and the listener: take another.
                listener.Close();
            }
        }
    }

    /// <summary>
    /// Once the run is over: when a page has been polling, waits until it has fetched the final figures, so it ends on
    /// the report's numbers rather than on the last live sample. A page that stops polling for
    /// <paramref name="gone"/> is taken as closed; a watching page is waited for at most <paramref name="timeout"/>
    /// (a page on a loaded machine may poll late, a closed tab must not hold the command).
    /// </summary>
    /// <returns>True when the final figures were served, or no page was watching.</returns>
    public async Task<bool> WaitForFinalFetchAsync(TimeSpan gone, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (FeedRequests == 0)
            return true;
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (!_finalServed.Task.IsCompleted)
            {
                var now = Stopwatch.GetTimestamp();
                if (now >= deadline || Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastFeedRequest), now) >= gone)
                    return false;
                // Woken by the final fetch, or a quarter of a second later to look again.
                await Task.WhenAny(_finalServed.Task, Task.Delay(250, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The listener was closed under a pending accept: that is how the loop ends.
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var request = context.Request;
            response.Headers["Cache-Control"] = "no-store";
            response.Headers["X-Content-Type-Options"] = "nosniff";
            if (!IsLoopbackHost(request.Headers["Host"]))
            {
                Plain(response, 421, "this page is served to 127.0.0.1 only");
                return;
            }

            if (request.HttpMethod != "GET")
            {
                response.Headers["Allow"] = "GET";
                Plain(response, 405, "only GET");
                return;
            }

            switch (request.Url?.AbsolutePath)
            {
                case "/" or "/index.html":
                    Send(response, 200, "text/html; charset=utf-8", _page);
                    break;
                case "/api/feed":
                    ServeFeed(request, response);
                    break;
                case "/api/vm":
                    ServeVm(request, response);
                    break;
                case "/favicon.ico":
                    response.StatusCode = 204;
                    break;
                default:
                    Plain(response, 404, "not found: the page is at /");
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The page went away mid-answer.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    private void ServeFeed(HttpListenerRequest request, HttpListenerResponse response)
    {
        var since = DashboardFeed.ParseSince(request.QueryString["since"]);
        var final = _session.ReportJson is not null;
        using var body = new MemoryStream();
        DashboardFeed.Write(body, _session, since);
        Send(response, 200, "application/json", body.ToArray());
        Interlocked.Increment(ref _feedRequests);
        Interlocked.Exchange(ref _lastFeedRequest, Stopwatch.GetTimestamp());
        if (final)
            _finalServed.TrySetResult();
    }

    private void ServeVm(HttpListenerRequest request, HttpListenerResponse response)
    {
        var id = request.QueryString["id"];
        if (id is null || !int.TryParse(request.QueryString["run"] ?? "0", out var run))
        {
            Plain(response, 400, "expected ?run=R&id=VM");
            return;
        }

        using var body = new MemoryStream();
        if (!DashboardFeed.WriteVm(body, _session, run, id))
        {
            Plain(response, 404, $"no events for VM {id} in run {run}");
            return;
        }

        Send(response, 200, "application/json", body.ToArray());
    }

    // A browser leaves the port out of Host when it is the scheme's default (--dashboard 80).
    private bool IsLoopbackHost(string? host) =>
        host == $"127.0.0.1:{Port}" || host == $"localhost:{Port}" || (Port == 80 && host is "127.0.0.1" or "localhost");

    private static void Plain(HttpListenerResponse response, int status, string text) =>
        Send(response, status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text + "\n"));

    private static void Send(HttpListenerResponse response, int status, string contentType, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = body.Length;
        response.OutputStream.Write(body);
    }
}
