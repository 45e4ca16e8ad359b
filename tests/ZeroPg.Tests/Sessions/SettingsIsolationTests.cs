using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public class SettingsIsolationTests(ServerFixture fixture)
{
    [Fact]
    public async Task Set_timezone_and_search_path_stay_with_the_client_that_set_them()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.TextAsync("SET TimeZone = 'Asia/Tokyo'");
        await a.TextAsync("CREATE SCHEMA IF NOT EXISTS iso_a; SET search_path = iso_a, public");
        await a.TextAsync("SET statement_timeout = '42s'");

        Assert.Equal("UTC", await b.TextAsync("SHOW TimeZone"));
        Assert.Equal("public", await b.TextAsync("SHOW search_path"));
        Assert.Equal("0", await b.TextAsync("SHOW statement_timeout"));

        Assert.Equal("Asia/Tokyo", await a.TextAsync("SHOW TimeZone"));
        Assert.Equal("iso_a, public", await a.TextAsync("SHOW search_path"));
        Assert.Equal("42s", await a.TextAsync("SHOW statement_timeout"));
        Assert.Equal("UTC", await b.TextAsync("SHOW TimeZone"));
    }

    [Fact]
    public async Task Sets_read_back_by_name_stay_with_their_client_through_resets_errors_and_rollbacks()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.TextAsync("CREATE SCHEMA IF NOT EXISTS byname_a");
        await a.TextAsync("SET search_path = byname_a, public");
        await a.TextAsync("SET TIME ZONE 'Asia/Tokyo'");
        await a.TextAsync("SET myapp.tenant = 'a'");
        Assert.Equal("public", await b.TextAsync("SHOW search_path"));
        Assert.Equal("UTC", await b.TextAsync("SHOW TimeZone"));
        Assert.Equal("", await b.TextAsync("SELECT coalesce(current_setting('myapp.tenant', true), '')"));
        Assert.Equal("byname_a, public", await a.TextAsync("SHOW search_path"));
        Assert.Equal("Asia/Tokyo", await a.TextAsync("SHOW TimeZone"));
        Assert.Equal("a", await a.TextAsync("SHOW myapp.tenant"));

        // A SET whose implicit transaction fails is undone, one with a bad value changes nothing, a rolled-back one neither.
        await Assert.ThrowsAsync<PostgresException>(() => a.TextAsync("SET statement_timeout = '42s'; SELECT 1/0"));
        await Assert.ThrowsAsync<PostgresException>(() => a.TextAsync("SET work_mem = 'banana'"));
        await a.TextAsync("BEGIN; SET lock_timeout = '7s'; ROLLBACK");
        Assert.Equal("0", await b.TextAsync("SHOW statement_timeout"));
        Assert.Equal("0", await a.TextAsync("SHOW statement_timeout"));
        Assert.Equal("4MB", await a.TextAsync("SHOW work_mem"));
        Assert.Equal("0", await a.TextAsync("SHOW lock_timeout"));

        // RESET gives the default back, also once another client had the engine; what was not reset stays.
        await a.TextAsync("RESET search_path; RESET myapp.tenant");
        Assert.Equal("public", await b.TextAsync("SHOW search_path"));
        Assert.Equal("public", await a.TextAsync("SHOW search_path"));
        Assert.Equal("", await a.TextAsync("SELECT coalesce(current_setting('myapp.tenant', true), '')"));
        Assert.Equal("Asia/Tokyo", await a.TextAsync("SHOW TimeZone"));
        Assert.Equal("UTC", await b.TextAsync("SHOW TimeZone"));
    }

    [Fact]
    public async Task A_rolled_back_set_is_undone_and_set_local_ends_with_the_transaction()
    {
        await using var a = await fixture.OpenAsync();
        await a.TextAsync("BEGIN; SET work_mem = '7MB'; ROLLBACK");
        Assert.Equal("4MB", await a.TextAsync("SHOW work_mem"));
        await a.TextAsync("BEGIN; SET LOCAL work_mem = '9MB'; COMMIT");
        Assert.Equal("4MB", await a.TextAsync("SHOW work_mem"));
    }

    [Fact]
    public async Task Startup_options_and_application_name_are_per_connection()
    {
        await using var a = await fixture.OpenAsync("Application Name=alpha;Options=-c search_path=pg_catalog -c lock_timeout=3s");
        await using var b = await fixture.OpenAsync("Application Name=beta");
        Assert.Equal("alpha", await a.TextAsync("SHOW application_name"));
        Assert.Equal("beta", await b.TextAsync("SHOW application_name"));
        Assert.Equal("pg_catalog", await a.TextAsync("SHOW search_path"));
        Assert.Equal("3s", await a.TextAsync("SHOW lock_timeout"));
        Assert.Equal("0", await b.TextAsync("SHOW lock_timeout"));
    }

    [Fact]
    public async Task Set_config_is_per_client_and_discard_all_resets_only_that_client()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.TextAsync("SELECT set_config('myapp.tenant', 'a-tenant', false)");
        await b.TextAsync("SELECT set_config('myapp.tenant', 'b-tenant', false)");
        Assert.Equal("a-tenant", await a.TextAsync("SELECT current_setting('myapp.tenant')"));
        Assert.Equal("b-tenant", await b.TextAsync("SELECT current_setting('myapp.tenant')"));

        await using (var discard = new NpgsqlCommand("DISCARD ALL", a))
            await discard.ExecuteNonQueryAsync();
        Assert.Equal("", await a.TextAsync("SELECT coalesce(current_setting('myapp.tenant', true), '')"));
        Assert.Equal("b-tenant", await b.TextAsync("SELECT current_setting('myapp.tenant')"));
    }
}

/// <summary>On an engine where nobody ever ran SET SESSION AUTHORIZATION (a server of its own): PGlite's
/// current_setting('session_authorization') is then empty, and read back as the client's role it made the
/// next batch switch to a role named "" (zero-cache's schema install then failed with 25P02).</summary>
public class SessionAuthorizationReadBackTests
{
    [Fact]
    public async Task A_client_whose_settings_were_read_back_keeps_its_role_after_ZeroPg_used_the_engine_role_in_its_transaction()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await c.OpenAsync();
        await c.TextAsync("SET statement_timeout = 0"); // the settings are read back from the engine
        await c.TextAsync("BEGIN");
        await c.TextAsync("CREATE TABLE ra_t (id int)");
        // The capture schema is installed as the engine's role inside the transaction, then the client's role comes back.
        Assert.NotNull(await c.TextAsync("SELECT pg_logical_emit_message(true, 'zeropg-test', 'x')::text"));
        Assert.Equal("postgres", await c.TextAsync("SELECT session_user::text"));
        await c.TextAsync("COMMIT");
        Assert.Equal("0", await c.TextAsync("SELECT count(*)::text FROM ra_t"));
    }
}
