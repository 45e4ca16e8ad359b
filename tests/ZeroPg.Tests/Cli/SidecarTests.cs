using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

public sealed class SidecarTests
{
    [Fact]
    public async Task Run_gets_the_connection_variables_and_its_exit_code_becomes_the_servers()
    {
        using var directory = new TempDirectory();
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--path", directory.Path, "--run",
            "test -n \"$ZEROPG_CONNECTION_STRING\" && psql \"$DATABASE_URL\" -XAtc 'select 1' >/dev/null && exit 7");
        var port = cli.Ready.GetProperty("port").GetInt32();
        Assert.NotEqual(0, port);
        Assert.Equal(Path.Combine(directory.Path, $".s.PGSQL.{port}"), cli.Ready.GetProperty("socket").GetString());
        Assert.Equal(7, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Parent_pid_stops_the_server_when_the_parent_dies()
    {
        using var parent = Process.Start("sleep", "120");
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--parent-pid", parent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        parent.Kill();
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Sigkill_of_the_server_leaves_no_engine_and_the_directory_reopens_with_its_data()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        await using (var cli = await CliProcess.StartReadyAsync("--port", "0", "--db", db))
        {
            await ExecuteAsync(cli, "create table t(x int); insert into t values (42)");
            var engine = cli.EngineProcessId();
            cli.Process.Kill(); // SIGKILL of the server only, not its tree
            await cli.Process.WaitForExitAsync();
            var clock = Stopwatch.StartNew();
            await Eventually.WaitUntilAsync(() => !CliProcess.IsRunning(engine), "the engine host gone after the server was killed", TimeSpan.FromSeconds(5));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the engine took {clock.Elapsed} to exit");
        }
        // The dead server's lock is stale: the next server takes it over.
        await using var again = await CliProcess.StartReadyAsync("--port", "0", "--db", db);
        Assert.Equal(42, await ExecuteAsync(again, "select x from t"));
    }

    [Fact]
    public async Task Sigterm_rolls_back_open_transactions_checkpoints_and_exits_0()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        await using (var cli = await CliProcess.StartReadyAsync("--port", "0", "--db", db))
        {
            await ExecuteAsync(cli, "create table t(x int); insert into t values (1)");
            await using var client = new NpgsqlConnection(cli.ConnectionString);
            await client.OpenAsync();
            await using (var begin = new NpgsqlCommand("begin; insert into t values (2)", client))
                await begin.ExecuteNonQueryAsync();
            var clock = Stopwatch.StartNew();
            await cli.SignalAsync("TERM");
            Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"shutdown took {clock.Elapsed}");
            await using var next = new NpgsqlCommand("insert into t values (3)", client);
            var error = await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteNonQueryAsync());
            Assert.Equal("57P01", error.SqlState);
            Assert.DoesNotContain("lock", cli.Stderr, StringComparison.OrdinalIgnoreCase);
        }
        await using var again = await CliProcess.StartReadyAsync("--port", "0", "--db", db);
        Assert.Equal(1L, await ExecuteAsync(again, "select count(*) from t"));
    }

    internal static async Task<object?> ExecuteAsync(CliProcess cli, string sql)
    {
        await using var connection = new NpgsqlConnection(cli.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
