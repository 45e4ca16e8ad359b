using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Hosting;

/// <summary>
/// The live dashboard under a known load: one client inside a long statement in a transaction, one queued behind it.
/// Checked as JSON, as a server-sent event stream, and as the page a browser shows (headless Chromium from Debian).
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private ZeroPgServer _server = null!;
    private NpgsqlConnection _holder = null!;
    private NpgsqlConnection _waiter = null!;
    private Task _holding = Task.CompletedTask;
    private Task _waiting = Task.CompletedTask;

    private string Base => $"http://127.0.0.1:{_server.HttpPort}";

    public async Task InitializeAsync()
    {
        _server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0 }, TestLogging.Factory);
        _holder = new NpgsqlConnection(_server.GetConnectionString() + ";Pooling=false;Application Name=dash-holder");
        _waiter = new NpgsqlConnection(_server.GetConnectionString() + ";Pooling=false;Application Name=dash-waiter");
        await _holder.OpenAsync();
        await _waiter.OpenAsync();
        await _holder.ExecAsync("begin; create temp table dash_hold (x int)");
        _holding = _holder.ExecAsync("select pg_sleep(30)");
        await Eventually.WaitUntilAsync(() => _server.Services.Registry.Sessions.Any(s => s.Activity.Current.State == "active"), "the holder's statement running");
        _waiting = _waiter.ExecAsync("select 1");
        await Eventually.QueuedAsync(_server);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync(); // ends both clients (57P01): the sleep does not run out
        await Task.WhenAll(_holding, _waiting).ContinueWith(_ => { });
        await _holder.DisposeAsync();
        await _waiter.DisposeAsync();
    }

    [Fact]
    public async Task The_status_shows_each_connection_with_its_state_and_the_queue()
    {
        using var http = new HttpClient();
        var status = await http.GetFromJsonAsync<JsonElement>($"{Base}/api/status");
        var connections = status.GetProperty("connections").EnumerateArray().ToDictionary(c => c.GetProperty("application").GetString()!);
        Assert.Equal("active", connections["dash-holder"].GetProperty("state").GetString());
        Assert.True(connections["dash-holder"].GetProperty("transactionSeconds").GetDouble() > 0);
        Assert.Equal("queued", connections["dash-waiter"].GetProperty("state").GetString());
        Assert.Equal("engine", connections["dash-waiter"].GetProperty("waitingFor").GetString());
        Assert.Equal(1, status.GetProperty("queued").GetInt32());
        var postgres = status.GetProperty("databases").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "postgres");
        Assert.True(postgres.GetProperty("running").GetBoolean());
        Assert.True(postgres.GetProperty("engineRssBytes").GetInt64() > 10_000_000);
    }

    [Fact]
    public async Task The_event_stream_sends_a_snapshot_every_second()
    {
        using var http = new HttpClient();
        await using var stream = await http.GetStreamAsync($"{Base}/events");
        using var reader = new StreamReader(stream);
        var snapshots = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (snapshots < 2 && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
                continue;
            var snapshot = JsonDocument.Parse(line["data: ".Length..]).RootElement;
            Assert.Contains(snapshot.GetProperty("connections").EnumerateArray(), c => c.GetProperty("application").GetString() == "dash-waiter");
            snapshots++;
        }
        Assert.Equal(2, snapshots);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_browser_shows_the_connections_and_a_screenshot_is_kept()
    {
        var chromium = ExternalTool.Find("chromium");
        var profile = Directory.CreateTempSubdirectory("zeropg-chromium-").FullName;
        try
        {
            string[] common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--user-data-dir={profile}", "--timeout=8000"];
            // The page fills itself from /api/status after it loads: on a busy machine the first dump may come first.
            ExternalTool.Result dom = null!;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                dom = await ExternalTool.RunAsync(chromium, [.. common, "--dump-dom", $"{Base}/"], timeout: TimeSpan.FromSeconds(60));
                if (dom.Stdout.Contains("<td>dash-holder</td>", StringComparison.Ordinal))
                    break;
            }
            Assert.Contains("<td>dash-holder</td>", dom.Stdout);
            Assert.Contains("<span class=\"state state-active\">active</span>", dom.Stdout);
            Assert.Contains("<td>dash-waiter</td>", dom.Stdout);
            Assert.Contains("<span class=\"state state-queued\">queued</span>", dom.Stdout);
            Assert.Contains("waiting for engine", dom.Stdout);
            Assert.Matches("<span class=\"state state-running\">running</span> pid \\d+", dom.Stdout); // postgres's engine, serving both clients

            var screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard-under-load.png");
            File.Delete(screenshot);
            var shot = await ExternalTool.RunAsync(chromium, [.. common, "--window-size=1280,800", $"--screenshot={screenshot}", $"{Base}/"], timeout: TimeSpan.FromSeconds(60));
            Assert.True(File.Exists(screenshot), shot.All);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(screenshot)[..4]);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}

/// <summary>The dashboard's replication slots: every slot with its lag, read from the engine while the page streams.</summary>
public sealed class DashboardSlotTests
{
    [Fact]
    public async Task The_event_stream_lists_an_inactive_slot_with_its_lag()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0 }, TestLogging.Factory);
        await using (var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await c.OpenAsync();
            await c.ExecAsync("CREATE TABLE dash_t (id int PRIMARY KEY, v text); CREATE PUBLICATION dash_pub FOR TABLE dash_t");
            await c.ExecAsync("SELECT pg_create_logical_replication_slot('dash_slot', 'pgoutput')");
            await c.ExecAsync("INSERT INTO dash_t SELECT g, repeat('x', 100) FROM generate_series(1, 100) g");
        }

        using var http = new HttpClient();
        await using var stream = await http.GetStreamAsync($"http://127.0.0.1:{server.HttpPort}/events");
        using var reader = new StreamReader(stream);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? shown = null;
        while (shown is null && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                shown = JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("replicationSlots").EnumerateArray()
                    .Select(s => s.GetString()).SingleOrDefault(s => s!.StartsWith("dash_slot (postgres): inactive, lag ", StringComparison.Ordinal));
        }
        Assert.NotNull(shown);
        Assert.DoesNotContain(", lag 0 B,", shown); // 100 rows were written since the slot's confirmed position
    }
}
