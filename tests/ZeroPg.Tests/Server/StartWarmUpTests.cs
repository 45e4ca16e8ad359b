using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Server;

/// <summary>
/// The start's warm-up (ZeroPgOptions.StartWarmUpStatements, `zeropg serve --warm-up`) runs statements through the server's
/// own port before the ready line; a client must find the server as one started without it: no session, no prepared
/// statement, no temporary object, the same settings, counters from zero.
/// </summary>
public sealed class StartWarmUpTests
{
    private const string Settings = "SELECT string_agg(name || '=' || setting || '@' || source, ',' ORDER BY name) FROM pg_settings WHERE source <> 'default'";

    [Fact]
    public async Task A_warmed_up_server_shows_a_client_no_trace_of_the_warm_up()
    {
        using var logs = new CapturedLogs();
        await using var warm = await ZeroPgServer.StartAsync(new ZeroPgOptions { StartWarmUpStatements = 300, StartWarmUpLimit = TimeSpan.FromMinutes(1) }, logs.Factory);
        Assert.Contains(logs.Messages, m => m.StartsWith("warmed up: 300 statements", StringComparison.Ordinal));
        // Nothing counted before the ready line: /metrics starts from zero as without a warm-up.
        Assert.Equal(0, warm.Metrics.ConnectionsAccepted);
        Assert.Equal(0, warm.Metrics.Statements);
        Assert.Equal(0, warm.Metrics.AutoPreparedRuns);

        await using var cold = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var warmConnection = new NpgsqlConnection(warm.GetConnectionString());
        await using var coldConnection = new NpgsqlConnection(cold.GetConnectionString());
        await warmConnection.OpenAsync();
        await coldConnection.OpenAsync();

        const string Activity = "SELECT count(*) FROM pg_stat_activity";
        Assert.Equal(await ScalarAsync<long>(coldConnection, Activity), await ScalarAsync<long>(warmConnection, Activity));
        Assert.Equal(0L, await ScalarAsync<long>(warmConnection, "SELECT count(*) FROM pg_prepared_statements"));
        Assert.Equal(0L, await ScalarAsync<long>(warmConnection, "SELECT count(*) FROM pg_class WHERE relpersistence = 't'"));
        Assert.Equal(0L, await ScalarAsync<long>(warmConnection, "SELECT count(*) FROM pg_cursors"));
        Assert.Equal(await ScalarAsync<string>(coldConnection, Settings), await ScalarAsync<string>(warmConnection, Settings));
        Assert.Equal(1, warm.Metrics.ConnectionsAccepted);
    }

    [Fact]
    public async Task The_library_does_not_warm_up_unless_asked()
    {
        using var logs = new CapturedLogs();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), logs.Factory);
        Assert.DoesNotContain(logs.Messages, m => m.StartsWith("warmed up", StringComparison.Ordinal));
        Assert.Equal(0, server.Metrics.ConnectionsAccepted);
    }

    [Fact]
    public async Task A_password_server_warms_up_through_its_own_authentication()
    {
        using var logs = new CapturedLogs();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            StartWarmUpStatements = 20,
            StartWarmUpLimit = TimeSpan.FromMinutes(1),
            Security = new ZeroPg.Security.SecurityOptions { Password = "s3cret", Authentication = ZeroPg.Security.AuthenticationMethod.ScramSha256 },
        }, logs.Factory);
        Assert.Contains(logs.Messages, m => m.StartsWith("warmed up: 20 statements", StringComparison.Ordinal));
        await using var connection = new NpgsqlConnection(server.GetConnectionString());
        await connection.OpenAsync();
        Assert.Equal(1, await ScalarAsync<int>(connection, "SELECT 1"));
    }

    [Fact]
    public async Task A_client_that_connects_before_the_ready_line_ends_the_warm_up_and_is_served()
    {
        using var logs = new CapturedLogs();
        var port = FreePort();
        // Without the client the warm-up would run for its whole limit (it does not settle beside other tests' compiles).
        var start = ZeroPgServer.StartAsync(new ZeroPgOptions { Port = port, StartWarmUpStatements = int.MaxValue, StartWarmUpLimit = TimeSpan.FromMinutes(5) }, logs.Factory);
        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=postgres;Password=postgres;Database=postgres;Pooling=false;Timeout=30");
        while (true)
        {
            try
            {
                await connection.OpenAsync();
                break;
            }
            catch (NpgsqlException) when (!start.IsCompleted)
            {
                await Task.Delay(10); // not listening yet
            }
        }
        Assert.Equal(1, await ScalarAsync<int>(connection, "SELECT 1"));
        await using var server = await start;
        Assert.Contains(logs.Messages, m => m.StartsWith("warmed up: ", StringComparison.Ordinal) && m.Contains("ended by a client", StringComparison.Ordinal));
        // the warm-up's session (application_name zeropg) is gone by the ready line
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zeropg'"));
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
