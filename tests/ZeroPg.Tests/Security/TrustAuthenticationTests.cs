using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Security;

/// <summary>The default server (trust on loopback, no TLS): roles must still exist and may log in, as with Postgres's trust.</summary>
[Collection(ServerCollection.Name)]
public sealed class TrustAuthenticationTests(ServerFixture fixture)
{
    [Fact]
    public async Task An_unknown_role_gets_28000_as_from_postgres()
    {
        var builder = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = "no_such_role", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal("28000", error.SqlState);
        Assert.Equal("role \"no_such_role\" does not exist", error.MessageText);
    }

    [Fact]
    public async Task A_created_role_logs_in_without_a_password_and_runs_as_itself()
    {
        await using (var admin = await fixture.OpenAsync())
            await admin.ExecAsync("do $$ begin if not exists (select from pg_roles where rolname = 'trust_app') then create role trust_app login; end if; end $$");
        var builder = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = "trust_app", Password = null, Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        Assert.Equal("trust_app", await connection.TextAsync("select current_user"));
    }

    [Fact]
    public async Task Ssl_request_is_answered_no_so_sslmode_require_fails_as_with_postgres_without_ssl()
    {
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAtc", "select 1"], environment: new Dictionary<string, string> { ["PGSSLMODE"] = "require" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("server does not support SSL, but SSL was required", result.Stderr);
        var prefer = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAtc", "select 1"], environment: new Dictionary<string, string> { ["PGSSLMODE"] = "prefer" });
        Assert.True(prefer.ExitCode == 0, prefer.All);
    }

    [Fact]
    public async Task A_client_connects_while_another_holds_the_engine_in_a_transaction()
    {
        await using (var warm = await fixture.OpenAsync())
            await warm.ExecAsync("select 1"); // the role directory is read once
        await using var holder = await fixture.OpenAsync();
        await holder.ExecAsync("begin; create temp table trust_hold (x int)");
        // Authentication reads ZeroPg's copy of the roles: it does not wait for the engine.
        await using var newcomer = await fixture.OpenAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await holder.ExecAsync("commit");
        Assert.Equal("1", await newcomer.TextAsync("select 1"));
    }
}
