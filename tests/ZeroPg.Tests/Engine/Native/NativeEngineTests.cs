using System.Diagnostics;
using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Native;

/// <summary>--engine postgres: what is its own (cancel through the front door, data directories, passwords, TLS).</summary>
public sealed class NativeEngineTests
{
    private static ZeroPgOptions Native(string database = ZeroPgOptions.MemoryDatabase) => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        DataDirectory = database,
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };

    [Fact]
    public async Task A_cancel_request_reaches_the_clients_own_backend()
    {
        await using var server = await ZeroPgServer.StartAsync(Native(), TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        Assert.StartsWith("PostgreSQL 15", await connection.TextAsync("select version()"));
        await using var command = new NpgsqlCommand("select pg_sleep(30)", connection);
        var clock = Stopwatch.StartNew();
        var running = command.ExecuteNonQueryAsync();
        // Its own backend runs it: Postgres's own view says when (a cancel sent before would find it idle and do nothing).
        await using (var observer = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await observer.OpenAsync();
            await Eventually.WaitUntilAsync(async () => await observer.TextAsync("select count(*) from pg_stat_activity where state = 'active' and query = 'select pg_sleep(30)'") == "1",
                "the sleep running in its backend");
        }
        command.Cancel();
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
        Assert.Equal("57014", Assert.IsType<PostgresException>(cancelled.InnerException).SqlState);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the cancel took {clock.Elapsed}");
        Assert.Equal("1", await connection.TextAsync("select 1"));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_data_directory_keeps_its_data_and_each_engine_refuses_the_others_directory()
    {
        using var directory = new TempDirectory("zeropg-native");
        var native = directory.Sub("native");
        await using (var server = await ZeroPgServer.StartAsync(Native(native), TestLogging.Factory))
        {
            await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            await connection.ExecAsync("create table kept (x int); insert into kept values (1), (2)");
        }
        await using (var again = await ZeroPgServer.StartAsync(Native(native), TestLogging.Factory))
        {
            await using var connection = new NpgsqlConnection(again.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            Assert.Equal("3", await connection.TextAsync("select sum(x) from kept"));
        }
        var refusedByPglite = await Assert.ThrowsAnyAsync<Exception>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = native }, TestLogging.Factory));
        Assert.Contains("--engine postgres", refusedByPglite.Message);

        var pglite = directory.Sub("pglite");
        await using (await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = pglite }, TestLogging.Factory))
        {
        }
        var refusedByNative = await Assert.ThrowsAnyAsync<Exception>(() => ZeroPgServer.StartAsync(Native(pglite), TestLogging.Factory));
        Assert.Contains("zeropg graduate", refusedByNative.Message);
    }

    [Fact]
    public async Task A_password_and_tls_work_in_front_of_the_native_server()
    {
        using var directory = new TempDirectory("zeropg-native-tls");
        using (ZeroPg.Security.ServerCertificate.SelfSigned(directory.Path, "127.0.0.1"))
        {
        }
        var options = Native();
        options.Security = new ZeroPg.Security.SecurityOptions
        {
            Password = "native pw",
            TlsCertificateFile = directory.Sub("server.crt"),
            TlsKeyFile = directory.Sub("server.key"),
        };
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        var builder = new NpgsqlConnectionStringBuilder(server.GetConnectionString())
        {
            Pooling = false, Host = "localhost", SslMode = SslMode.VerifyFull, RootCertificate = directory.Sub("server.crt"),
        };
        await using (var connection = new NpgsqlConnection(builder.ConnectionString))
        {
            await connection.OpenAsync();
            Assert.Equal("postgres", await connection.TextAsync("select current_user"));
        }
        builder.Password = "wrong";
        await using var wrong = new NpgsqlConnection(builder.ConnectionString);
        Assert.Equal("28P01", (await Assert.ThrowsAsync<PostgresException>(() => wrong.OpenAsync())).SqlState);
    }

    [Fact]
    public async Task Pgbench_runs_against_the_native_engine()
    {
        await using var server = await ZeroPgServer.StartAsync(Native(), TestLogging.Factory);
        var init = await ExternalTool.RunAsync("pgbench", ["-i", "-s", "1", "-q", server.Url]);
        Assert.True(init.ExitCode == 0, init.All);
        var run = await ExternalTool.RunAsync("pgbench", ["-c", "4", "-t", "50", server.Url]);
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("number of transactions actually processed: 200/200", run.Stdout);
    }
}
