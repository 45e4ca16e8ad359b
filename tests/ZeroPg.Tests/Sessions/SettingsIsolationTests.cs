using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public sealed class SettingsIsolationTests(ServerFixture fixture)
{
    private static async Task<string> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Set_timezone_and_search_path_stay_with_the_client_that_set_them()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await ScalarAsync(a, "SET TimeZone = 'Asia/Tokyo'");
        await ScalarAsync(a, "CREATE SCHEMA IF NOT EXISTS iso_a; SET search_path = iso_a, public");
        await ScalarAsync(a, "SET statement_timeout = '42s'");

        Assert.Equal("UTC", await ScalarAsync(b, "SHOW TimeZone"));
        Assert.Equal("public", await ScalarAsync(b, "SHOW search_path"));
        Assert.Equal("0", await ScalarAsync(b, "SHOW statement_timeout"));

        Assert.Equal("Asia/Tokyo", await ScalarAsync(a, "SHOW TimeZone"));
        Assert.Equal("iso_a, public", await ScalarAsync(a, "SHOW search_path"));
        Assert.Equal("42s", await ScalarAsync(a, "SHOW statement_timeout"));
        Assert.Equal("UTC", await ScalarAsync(b, "SHOW TimeZone"));
    }

    [Fact]
    public async Task A_rolled_back_set_is_undone_and_set_local_ends_with_the_transaction()
    {
        await using var a = await fixture.OpenAsync();
        await ScalarAsync(a, "BEGIN; SET work_mem = '7MB'; ROLLBACK");
        Assert.Equal("4MB", await ScalarAsync(a, "SHOW work_mem"));
        await ScalarAsync(a, "BEGIN; SET LOCAL work_mem = '9MB'; COMMIT");
        Assert.Equal("4MB", await ScalarAsync(a, "SHOW work_mem"));
    }

    [Fact]
    public async Task Startup_options_and_application_name_are_per_connection()
    {
        await using var a = await fixture.OpenAsync("Application Name=alpha;Options=-c search_path=pg_catalog -c lock_timeout=3s");
        await using var b = await fixture.OpenAsync("Application Name=beta");
        Assert.Equal("alpha", await ScalarAsync(a, "SHOW application_name"));
        Assert.Equal("beta", await ScalarAsync(b, "SHOW application_name"));
        Assert.Equal("pg_catalog", await ScalarAsync(a, "SHOW search_path"));
        Assert.Equal("3s", await ScalarAsync(a, "SHOW lock_timeout"));
        Assert.Equal("0", await ScalarAsync(b, "SHOW lock_timeout"));
    }

    [Fact]
    public async Task Set_config_is_per_client_and_discard_all_resets_only_that_client()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await ScalarAsync(a, "SELECT set_config('myapp.tenant', 'a-tenant', false)");
        await ScalarAsync(b, "SELECT set_config('myapp.tenant', 'b-tenant', false)");
        Assert.Equal("a-tenant", await ScalarAsync(a, "SELECT current_setting('myapp.tenant')"));
        Assert.Equal("b-tenant", await ScalarAsync(b, "SELECT current_setting('myapp.tenant')"));

        await using (var discard = new NpgsqlCommand("DISCARD ALL", a))
            await discard.ExecuteNonQueryAsync();
        Assert.Equal("", await ScalarAsync(a, "SELECT coalesce(current_setting('myapp.tenant', true), '')"));
        Assert.Equal("b-tenant", await ScalarAsync(b, "SELECT current_setting('myapp.tenant')"));
    }
}
