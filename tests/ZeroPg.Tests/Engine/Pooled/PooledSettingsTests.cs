using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>A pool of ONE backend of Debian's PostgreSQL 15: every client of the tests below shares it.</summary>
public sealed class OneBackendPoolFixture : ServerFixture
{
    protected override ZeroPgOptions Options() => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        MaxConnections = 20,
        PoolSize = 1,
        // A client that kept the one backend (a pinned SET) would make the others wait: they fail after this, not hang.
        PoolWaitTimeout = TimeSpan.FromSeconds(20),
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };
}

/// <summary>
/// Session settings through the pool, without a backend of their own: a client's SET, set_config and startup options
/// stay its own from transaction to transaction on a backend it shares with other clients, who never see them; rolled-back
/// SETs, RESET and DISCARD ALL behave as on a direct connection (native PostgreSQL 15, same script, is the reference).
/// </summary>
public sealed class PooledSettingsTests(OneBackendPoolFixture pooled, NativePostgres native) : IClassFixture<OneBackendPoolFixture>, IClassFixture<NativePostgres>
{
    /// <summary>The settings a read shows; a value equal to the client's own at connection is shown as "=" (servers' defaults differ).</summary>
    private const string ReadSql = "SELECT concat_ws('|', current_setting('search_path'), current_setting('statement_timeout'), current_setting('work_mem'),"
        + " current_setting('TimeZone'), coalesce(nullif(current_setting('myapp.tenant', true), ''), '-'))";

    private sealed class Client(string name, NpgsqlConnection connection)
    {
        private string[] _baseline = [];

        public NpgsqlConnection Connection => connection;

        public async Task StartAsync() => _baseline = (await connection.TextAsync(ReadSql)).Split('|');

        public async Task<string> ReadAsync()
        {
            var values = (await connection.TextAsync(ReadSql)).Split('|');
            return name + ": " + string.Join('|', values.Select((v, i) => v == _baseline[i] ? "=" : v));
        }
    }

    /// <summary>Three clients (c with a startup search_path) interleaved; every read of each, in order.</summary>
    private static async Task<List<string>> RunScriptAsync(Func<string?, Task<NpgsqlConnection>> open)
    {
        var log = new List<string>();
        await using var aConnection = await open(null);
        await using var bConnection = await open(null);
        await using var cConnection = await open("Options=-c search_path=startup_c");
        var a = new Client("a", aConnection);
        var b = new Client("b", bConnection);
        var c = new Client("c", cConnection);
        await a.StartAsync();
        await b.StartAsync();
        log.Add("c at start: " + await cConnection.TextAsync("SELECT current_setting('search_path')"));
        await c.StartAsync();
        async Task ReadAll(string step)
        {
            log.Add(step);
            foreach (var client in new[] { a, b, c })
                log.Add(await client.ReadAsync());
        }

        await a.Connection.ExecAsync("SET search_path TO pooled_a, public");
        await a.Connection.ExecAsync("SET statement_timeout = '12s'");
        await a.Connection.ExecAsync("SELECT set_config('work_mem', '7MB', false)");
        await a.Connection.ExecAsync("SET TIME ZONE 'Asia/Tokyo'");
        await a.Connection.ExecAsync("SET myapp.tenant = '42'");
        for (var i = 0; i < 3; i++)
            await ReadAll($"a set, round {i}");
        log.Add("b told TimeZone: " + (b.Connection.Timezone == a.Connection.Timezone));

        await a.Connection.ExecAsync("BEGIN; SET work_mem = '9MB'; ROLLBACK");
        await ReadAll("a's SET rolled back");
        await a.Connection.ExecAsync("BEGIN; SET statement_timeout = '13s'; COMMIT");
        await ReadAll("a's SET committed");
        await b.Connection.ExecAsync("SET search_path TO pooled_b");
        await c.Connection.ExecAsync("SET work_mem = '5MB'");
        await ReadAll("b and c set");
        await a.Connection.ExecAsync("RESET work_mem");
        await c.Connection.ExecAsync("RESET search_path");
        await ReadAll("a and c reset one");
        await a.Connection.ExecAsync("RESET ALL");
        await ReadAll("a reset all");
        await b.Connection.ExecAsync("DISCARD ALL");
        await ReadAll("b discarded all");
        return log;
    }

    [Fact]
    public async Task Settings_stay_with_their_client_on_a_backend_shared_with_others_as_on_a_direct_connection()
    {
        var reference = await RunScriptAsync(async extra =>
        {
            var connection = new NpgsqlConnection(native.ConnectionString() + ";" + extra);
            await connection.OpenAsync();
            return connection;
        });
        var through = await RunScriptAsync(pooled.OpenAsync);

        Assert.Equal(reference, through);
        // Not vacuous: a's settings were its own and b never saw them.
        Assert.Contains("a: pooled_a, public|12s|7MB|Asia/Tokyo|42", through);
        Assert.Contains("b: =|=|=|=|=", through);
        Assert.Contains("c: =|=|5MB|=|=", through);
    }

    [Fact]
    public async Task A_set_keeps_no_backend_so_a_pool_of_one_serves_a_client_that_set_and_one_that_did_not()
    {
        await using var setter = await pooled.OpenAsync();
        await using var other = await pooled.OpenAsync();
        var defaultPath = await other.TextAsync("SHOW search_path");
        await setter.ExecAsync("SET search_path TO nowhere_at_all");
        await setter.ExecAsync("SELECT set_config('statement_timeout', '9s', false)");
        for (var i = 0; i < 3; i++)
        {
            // Each waits for the one backend; a pinned setter would hold it and the other would time out (57014).
            Assert.Equal("nowhere_at_all", await setter.TextAsync("SHOW search_path"));
            Assert.Equal("9s", await setter.TextAsync("SHOW statement_timeout"));
            Assert.Equal(defaultPath, await other.TextAsync("SHOW search_path"));
            Assert.Equal("0", await other.TextAsync("SHOW statement_timeout"));
        }
        // What a DO block sets, which the statement's scan cannot see into, and a reported setting changed inside a function,
        // are the setter's too.
        await setter.ExecAsync("DO $$ BEGIN PERFORM set_config('work_mem', '3MB', false); END $$");
        await setter.ExecAsync("CREATE OR REPLACE FUNCTION public.pooled_sets_zone() RETURNS int LANGUAGE sql AS $$ SELECT length(set_config('TimeZone', 'Asia/Tokyo', false)) $$");
        var defaultZone = await other.TextAsync("SHOW TimeZone");
        var defaultWorkMem = await other.TextAsync("SHOW work_mem");
        await setter.ScalarAsync("SELECT public.pooled_sets_zone()");
        Assert.Equal("3MB", await setter.TextAsync("SHOW work_mem"));
        Assert.Equal(defaultWorkMem, await other.TextAsync("SHOW work_mem"));
        Assert.Equal("Asia/Tokyo", await setter.TextAsync("SHOW TimeZone"));
        Assert.Equal(defaultZone, await other.TextAsync("SHOW TimeZone"));
        // The settings read back are the backend's own: a SET that failed leaves the value before it.
        await Assert.ThrowsAsync<PostgresException>(() => setter.ExecAsync("SET statement_timeout = 'soon'"));
        Assert.Equal("9s", await setter.TextAsync("SHOW statement_timeout"));
    }
}
