using System.Net;
using System.Net.Sockets;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Hosting;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Readyz_is_503_while_the_engine_starts_then_200_and_metrics_are_prometheus_text()
    {
        var httpPort = FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        var start = ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = httpPort }, TestLogging.Factory);
        // Polls until Kestrel answers once (a refused connection: not listening yet) or the start is over.
        var duringStart = await Eventually.ValueAsync<HttpStatusCode?>(async () =>
            {
                try
                {
                    using var response = await http.GetAsync("/readyz");
                    return start.IsCompleted ? null : response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            },
            status => status is not null || start.IsCompleted, _ => "/readyz answered or the server started", TimeSpan.FromMinutes(2));
        await using var server = await start;
        // Inconclusive (null) only if the engine was ready before Kestrel answered once.
        if (duringStart is not null)
            Assert.Equal(HttpStatusCode.ServiceUnavailable, duringStart);
        Assert.Equal(httpPort, server.HttpPort);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        await Engine.DataDirectoryTests.ExecuteAsync(server, "select 1");
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE zeropg_connections gauge", metrics);
        Assert.Contains("zeropg_engine_restarts_total 0", metrics);
        Assert.Matches(@"zeropg_engine_resident_memory_bytes \d{7,}", metrics);
        Assert.Contains("zeropg_database_engine_running{database=\"postgres\"} 1", metrics);
        Assert.Matches(@"zeropg_database_engine_memory_bytes\{database=""postgres""\} \d{7,}", metrics);
        Assert.Matches(@"zeropg_batches_total [1-9]", metrics);
        Assert.Matches(@"# TYPE zeropg_statements_total counter\nzeropg_statements_total \d+", metrics); // the count's rise is DashboardFigureTests'
        Assert.Matches(@"zeropg_connections_accepted_total [1-9]", metrics);
        Assert.Matches(@"# TYPE zeropg_allocated_bytes_total counter\nzeropg_allocated_bytes_total [1-9]\d{5}", metrics); // a server allocates more than 100 kB to start
    }

    [Fact]
    public async Task The_cli_prints_the_http_port_in_its_ready_line()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--http-port", "0");
        var httpPort = cli.Ready.GetProperty("httpPort").GetInt32();
        using var http = new HttpClient();
        Assert.Equal("ready\n", await http.GetStringAsync($"http://127.0.0.1:{httpPort}/readyz"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
