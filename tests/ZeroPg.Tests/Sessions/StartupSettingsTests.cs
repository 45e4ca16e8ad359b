using Npgsql;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>An invalid startup setting ends that connection with Postgres's FATAL 22023 (native PostgreSQL 15's text), and nothing else.</summary>
[Collection(ServerCollection.Name)]
public sealed class StartupSettingsTests(ServerFixture fixture)
{
    private const string Expected = "invalid value for parameter \"statement_timeout\": \"abc\"";

    [Fact]
    public async Task Psql_with_an_invalid_option_gets_fatal_22023_and_the_server_stays_fine()
    {
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-X", "-c", "select 1"],
            environment: new Dictionary<string, string> { ["PGOPTIONS"] = "-c statement_timeout=abc" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"FATAL:  {Expected}", result.Stderr);

        await using var other = await fixture.OpenAsync("Options=-c statement_timeout=7s");
        Assert.Equal("7s", await other.ScalarAsync("SHOW statement_timeout"));
        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));
    }

    [Fact]
    public async Task Npgsql_options_with_an_invalid_value_fail_to_open_with_22023()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("Options=-c statement_timeout=abc"));
        Assert.Equal("22023", error.SqlState);
        Assert.Equal("FATAL", error.Severity);
        Assert.Equal(Expected, error.MessageText);
        var unknown = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("Options=-c no_such_setting=1"));
        Assert.Equal("42704", unknown.SqlState);
        Assert.Equal("unrecognized configuration parameter \"no_such_setting\"", unknown.MessageText);
    }

    [Fact]
    public async Task A_startup_parameter_with_an_invalid_value_gets_fatal_22023()
    {
        await using var raw = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server);
        await raw.Bytes(RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3,
            "user", "postgres", "database", "postgres", "statement_timeout", "abc")).FlushAsync();
        var replies = await raw.ReadUntilClosedAsync();
        var fatal = Assert.Single(replies, m => m.Code == 'E');
        Assert.Equal("22023", fatal.SqlState);
        Assert.Equal(Expected, fatal.MessageText);
        Assert.DoesNotContain(replies, m => m.Code == 'R'); // not let in

        await using var next = await fixture.OpenAsync();
        Assert.Equal("0", await next.ScalarAsync("SHOW statement_timeout"));
    }

    [Fact]
    public async Task Startup_settings_cost_no_engine_call_of_their_own_and_stay_with_their_client()
    {
        // A server of its own, on a directory: the test counts the batches its engine runs, and memory:// would add its WAL
        // checkpoint check (MemoryWalCheckpoints) whenever the engine is free for a second.
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { Port = 0, DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        var plain = server.GetConnectionString() + ";Pooling=false;Server Compatibility Mode=NoTypeLoading";
        await using var a = new NpgsqlConnection(plain + ";Application Name=alpha;Options=-c search_path=pg_catalog -c DateStyle=german -c lock_timeout=3s");
        await a.OpenAsync();
        var before = server.Metrics.Batches;
        Assert.Equal(1, await a.ScalarAsync("SELECT 1"));
        Assert.Equal(2, await a.ScalarAsync("SELECT 2"));
        Assert.Equal(2, server.Metrics.Batches - before); // each unit one batch: the settings went in front of the first, nothing read them back

        await using var b = new NpgsqlConnection(plain + ";Application Name=beta");
        await b.OpenAsync();
        Assert.Equal("beta", await b.ScalarAsync("SHOW application_name"));
        Assert.Equal("public", await b.ScalarAsync("SHOW search_path"));
        Assert.Equal("ISO, MDY", await b.ScalarAsync("SHOW DateStyle"));
        Assert.Equal("alpha", await a.ScalarAsync("SHOW application_name"));
        Assert.Equal("pg_catalog", await a.ScalarAsync("SHOW search_path"));
        Assert.Equal("German, DMY", await a.ScalarAsync("SHOW DateStyle"));
        Assert.Equal("3s", await a.ScalarAsync("SHOW lock_timeout"));
        Assert.Equal("0", await b.ScalarAsync("SHOW lock_timeout"));

        // A SET of the client's own is read back (a rolled-back one must not stick), and kept as its setting too.
        // The read runs after the client has its reply: counted once the next statement is answered. Not a timeout's SET:
        // ZeroPg answers that one itself when it comes while the engine is still held (DeferredTransaction), and the
        // setting then goes in front of the next unit, with nothing to read back.
        before = server.Metrics.Batches;
        await a.ScalarAsync("SET work_mem = '8MB'");
        Assert.Equal(1, await a.ScalarAsync("SELECT 1"));
        Assert.Equal(3, server.Metrics.Batches - before); // the SET, its read, the SELECT
        await a.ScalarAsync("BEGIN; SET work_mem = '16MB'; SET lock_timeout = '5s'; ROLLBACK");
        Assert.Equal("0", await b.ScalarAsync("SHOW lock_timeout"));
        Assert.Equal("4MB", await b.ScalarAsync("SHOW work_mem"));
        Assert.Equal("8MB", await a.ScalarAsync("SHOW work_mem"));
        Assert.Equal("3s", await a.ScalarAsync("SHOW lock_timeout"));
        Assert.Equal("German, DMY", await a.ScalarAsync("SHOW DateStyle"));

        // SET LOCAL ends with its transaction: nothing to read back either.
        before = server.Metrics.Batches;
        Assert.Equal("6s", await a.ScalarAsync("BEGIN; SET LOCAL lock_timeout = '6s'; SHOW lock_timeout; COMMIT"));
        Assert.Equal(1, await a.ScalarAsync("SELECT 1"));
        Assert.Equal(2, server.Metrics.Batches - before);
        Assert.Equal("3s", await a.ScalarAsync("SHOW lock_timeout"));
    }
}
