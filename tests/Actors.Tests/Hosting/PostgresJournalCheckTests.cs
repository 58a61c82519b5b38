using System.Net;
using System.Net.Sockets;
using HekiActors.Actors.Hosting;

namespace HekiActors.Actors.Tests.Hosting;

/// <summary>
/// The check a node makes of its PostgreSQL journal before it starts (PostgresJournal.WhyNotUsableAsync): one line for
/// each way it cannot serve, and never longer than its bound, whatever the connection string says.
/// </summary>
public sealed class PostgresJournalCheckTests
{
    [Fact]
    public async Task A_closed_port_is_named_with_the_server()
    {
        int port;
        using (var closed = new TcpListener(IPAddress.Loopback, 0))
        {
            closed.Start();
            port = ((IPEndPoint)closed.LocalEndpoint).Port;
        }

        var why = await PostgresJournal.WhyNotUsableAsync($"Host=127.0.0.1;Port={port};Database=heki;Username=heki");
        Assert.Equal($"PostgreSQL at 127.0.0.1:{port}: Connection refused", why);
    }

    [Theory]
    [InlineData("Foo=bar")]
    [InlineData("Host=127.0.0.1;Port=abc")]
    public async Task A_malformed_connection_string_is_named(string connection)
    {
        var why = await PostgresJournal.WhyNotUsableAsync(connection);
        Assert.StartsWith("not a PostgreSQL connection string: ", why);
    }

    [Theory]
    [InlineData("")]
    [InlineData(";Timeout=0")]
    [InlineData(";Timeout=1000;Command Timeout=0")]
    public async Task A_server_that_accepts_but_never_answers_is_given_up_within_the_bound(string timeoutSetting)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;

        var check = PostgresJournal.WhyNotUsableAsync($"Host=127.0.0.1;Port={port};Database=heki;Username=heki{timeoutSetting}",
            within: TimeSpan.FromSeconds(1));
        // The check's own bound is 1 s; 30 s only keeps a regression from hanging the suite.
        var why = await check.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal($"PostgreSQL at 127.0.0.1:{port} did not answer within 1 s", why);
    }

    [Fact]
    public async Task A_stop_during_the_check_ends_it_as_cancelled()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();

        var check = PostgresJournal.WhyNotUsableAsync($"Host=127.0.0.1;Port={port};Database=heki;Username=heki;Timeout=0", stop.Token);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
