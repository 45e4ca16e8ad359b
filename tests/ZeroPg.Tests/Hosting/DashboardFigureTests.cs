using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Databases;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Hosting;

/// <summary>
/// The dashboard's figures are right from the first request: the slots that exist, statements per second over a real
/// window (0 on an idle server), every engine process with its role, and a history of throughput, queue length and
/// latency whose points add up to the known load that ran.
/// </summary>
public sealed class DashboardFigureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_first_status_request_lists_an_existing_slot()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0 }, TestLogging.Factory);
        await using (var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await c.OpenAsync();
            await c.ExecAsync("CREATE TABLE first_t (id int PRIMARY KEY); CREATE PUBLICATION first_pub FOR TABLE first_t");
            await c.ExecAsync("SELECT pg_create_logical_replication_slot('first_slot', 'pgoutput')");
        }

        using var http = new HttpClient();
        var status = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{server.HttpPort}/api/status"); // no /events stream ran

        var slot = Assert.Single(status.GetProperty("replicationSlots").EnumerateArray().Select(s => s.GetString()!));
        Assert.StartsWith("first_slot (postgres): inactive, lag ", slot);
    }

    [Fact]
    public async Task An_idle_server_reports_0_statements_per_second_and_the_history_adds_up_to_the_known_load()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0 }, TestLogging.Factory);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };

        // Idle, no client: every read over a few seconds says 0, and so does every second of the history.
        await Eventually.WaitUntilAsync(async () => (await StatusAsync(http)).GetProperty("history").GetArrayLength() >= 3, "three seconds of history");
        var idle = await StatusAsync(http);
        Assert.Equal(0, idle.GetProperty("statementsPerSecond").GetDouble());
        Assert.All(idle.GetProperty("history").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("statementsPerSecond").GetDouble()));

        // A known load: 300 statements, then five that take 400 ms each (two seconds: at least one whole second of the
        // history holds only them).
        const int Quick = 300;
        await using (var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            var before = server.Metrics.Statements;
            for (var i = 0; i < Quick; i++)
                await connection.ExecAsync("select 1");
            for (var i = 0; i < 5; i++)
                await connection.ExecAsync("select pg_sleep(0.4)");
            // A unit is counted as its session goes idle, a moment after the client has its reply.
            await Eventually.WaitUntilAsync(() => server.Metrics.Statements - before >= Quick + 5, $"{Quick + 5} statements counted");
        }
        var busy = await StatusAsync(http);
        output.WriteLine($"right after the load: {busy.GetProperty("statementsPerSecond").GetDouble()} statements/s");
        Assert.True(busy.GetProperty("statementsPerSecond").GetDouble() > 0);

        // Once the history has sampled past the load, its points add up to every statement that ran since the start, and
        // the seconds with the sleeps show their latency.
        var total = server.Metrics.Statements;
        JsonElement settled = default;
        await Eventually.WaitUntilAsync(async () =>
        {
            settled = await StatusAsync(http);
            return settled.GetProperty("history").EnumerateArray().Sum(p => p.GetProperty("statements").GetInt64()) == total;
        }, "the history's points adding up to the statements that ran");
        var points = settled.GetProperty("history").EnumerateArray().ToList();
        Assert.True(points.Max(p => p.GetProperty("latencyMs").GetDouble()) >= 350, string.Join(", ", points.Select(p => p.GetProperty("latencyMs").GetDouble())));
        Assert.True(points.Max(p => p.GetProperty("statementsPerSecond").GetDouble()) > 0);

        // Idle again: the rate falls back to 0 once the window has passed the load.
        await Eventually.WaitUntilAsync(async () => (await StatusAsync(http)).GetProperty("statementsPerSecond").GetDouble() == 0, "0 statements/s once idle again", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_history_shows_a_client_queued_behind_a_long_statement()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0 }, TestLogging.Factory);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };
        await using var holder = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await using var waiter = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await holder.OpenAsync();
        await waiter.OpenAsync();
        var holding = holder.ExecAsync("select pg_sleep(4)");
        // Running for longer than the scheduler's hand-over window: a client that asks for the engine within it takes it at
        // once, its statement queued in the engine behind the sleep (pipelined), and is never counted as queued here.
        // Its start is counted from when the session read it: on a loaded machine the hand-over (once it is written to the engine
        // host) can come later than that, so the wait also sees it in the engine host and the hand-over's window over.
        await Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.Any(s => s.Activity.Current is { State: "active", QueryStart: { } started }
            && DateTimeOffset.UtcNow - started > 10 * ZeroPg.Sessions.EngineScheduler.HandOverWindow)
            && server.RunningEngine is { HasCallsInFlight: true } && server.Services.Scheduler.Owner is not null && !server.Services.Scheduler.TakesOverNow,
            "the holder's statement running past the hand-over window");
        var waiting = waiter.ExecAsync("select 1");
        await Eventually.QueuedAsync(server);

        await Eventually.WaitUntilAsync(async () => (await StatusAsync(http)).GetProperty("history").EnumerateArray().Any(p => p.GetProperty("queued").GetInt32() == 1),
            "a second of the history with one client queued");
        await Task.WhenAll(holding, waiting);
        // Both statements took seconds (the holder's sleep, the waiter's queueing): the second they ended in shows it once sampled.
        await Eventually.WaitUntilAsync(async () => (await StatusAsync(http)).GetProperty("history").EnumerateArray().Any(p => p.GetProperty("latencyMs").GetDouble() >= 1000),
            "a second of the history with a latency of seconds");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Every_engine_is_listed_with_its_role_database_spare_and_template_copy()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0, SpareDatabaseEngine = SpareEngineMode.Always }, TestLogging.Factory);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };

        await Eventually.WaitUntilAsync(async () => Roles(await StatusAsync(http)).Contains("spare:"), "the spare engine listed", TimeSpan.FromSeconds(120));
        var first = await StatusAsync(http);
        Assert.Contains("database:postgres", Roles(first));
        Assert.All(first.GetProperty("engines").EnumerateArray(), e => Assert.True(e.GetProperty("pid").GetInt32() > 0));

        await using (var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await connection.ExecAsync("CREATE DATABASE dash_template");
            await connection.ExecAsync("CREATE DATABASE dash_copy TEMPLATE dash_template");
        }
        // The next spare is of the kind last asked for: a copy of the template.
        await Eventually.WaitUntilAsync(async () => Roles(await StatusAsync(http)).Contains("template copy:dash_template"), "the template copy listed", TimeSpan.FromSeconds(120));
        var roles = Roles(await StatusAsync(http));
        output.WriteLine(string.Join(", ", roles));
        Assert.Contains("database:dash_copy", roles);
        // The template sleeps since its copy (its tar is the copies' source) and is listed again once a client wakes it.
        Assert.DoesNotContain("database:dash_template", roles);
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = "dash_template", Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync();
            Assert.Contains("database:dash_template", Roles(await StatusAsync(http)));
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_browser_draws_the_charts_and_lists_the_engines()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0 }, TestLogging.Factory);
        await using (var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            for (var i = 0; i < 200; i++)
                await connection.ExecAsync("select 1");
        }
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };
        // A line needs two points: on a quick machine the load fits in the server's first second of history.
        await Eventually.WaitUntilAsync(async () => (await StatusAsync(http)).GetProperty("history") is var history
                && history.GetArrayLength() >= 2 && history.EnumerateArray().Any(p => p.GetProperty("statements").GetInt64() > 0),
            "two seconds of history, one with the load");

        var chromium = ExternalTool.Find("chromium");
        var profile = Directory.CreateTempSubdirectory("zeropg-chromium-").FullName;
        try
        {
            string[] common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--user-data-dir={profile}", "--timeout=8000"];
            var dom = await ExternalTool.RunAsync(chromium, [.. common, "--dump-dom", $"http://127.0.0.1:{server.HttpPort}/"], timeout: TimeSpan.FromSeconds(60));

            foreach (var chart in (string[])["throughput", "queued", "latency"])
            {
                var svg = Regex.Match(dom.Stdout, $"<svg id=\"chart-{chart}\"[^>]*>(.*?)</svg>", RegexOptions.Singleline);
                Assert.True(svg.Success, $"no {chart} chart in: {dom.Stdout}");
                var line = Regex.Match(svg.Groups[1].Value, "<polyline points=\"([^\"]+)\"");
                Assert.True(line.Success, svg.Value);
                Assert.True(line.Groups[1].Value.Split(' ').Length >= 2, line.Value); // a line of several seconds, not a dot
            }
            // The load's second is a peak in the throughput line: some point above the baseline (y < 68).
            var throughput = Regex.Match(dom.Stdout, "<svg id=\"chart-throughput\".*?<polyline points=\"([^\"]+)\"", RegexOptions.Singleline).Groups[1].Value;
            Assert.Contains(throughput.Split(' '), point => double.Parse(point.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture) < 60);
            Assert.Contains("<tr data-role=\"database\"><td>database</td><td>postgres</td>", dom.Stdout);
            Assert.DoesNotContain("cdn", dom.Stdout, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    private static async Task<JsonElement> StatusAsync(HttpClient http) => await http.GetFromJsonAsync<JsonElement>("/api/status");

    private static List<string> Roles(JsonElement status)
        => status.GetProperty("engines").EnumerateArray().Select(e => $"{e.GetProperty("role").GetString()}:{(e.GetProperty("database").ValueKind == JsonValueKind.Null ? "" : e.GetProperty("database").GetString())}").ToList();
}
