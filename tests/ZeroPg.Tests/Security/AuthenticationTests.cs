using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Security;

/// <summary>SCRAM-SHA-256 against the secrets the engine keeps, with real clients (Npgsql, psql): Postgres's errors for wrong passwords and roles.</summary>
[Collection(SecuredServerCollection.Name)]
public sealed class AuthenticationTests(SecuredServerFixture fixture)
{
    [Fact]
    public async Task The_postgres_role_logs_in_with_the_configured_password()
    {
        await using var connection = await fixture.OpenAsync();
        Assert.Equal("postgres", await connection.TextAsync("select current_user"));
        // The engine keeps a SCRAM verifier, never the password.
        Assert.StartsWith("SCRAM-SHA-256$4096:", await connection.TextAsync("select rolpassword from pg_authid where rolname = 'postgres'"));
    }

    [Fact]
    public async Task A_wrong_password_gets_28P01()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync(password: "wrong"));
        Assert.Equal("28P01", error.SqlState);
        Assert.Equal("password authentication failed for user \"postgres\"", error.MessageText);
    }

    [Fact]
    public async Task An_unknown_role_fails_like_a_wrong_password_as_in_postgres()
    {
        // Postgres runs a mock SCRAM exchange for a role it does not know, so probing cannot tell roles apart.
        var error = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync(user: "nobody_here"));
        Assert.Equal("28P01", error.SqlState);
        Assert.Equal("password authentication failed for user \"nobody_here\"", error.MessageText);
    }

    [Fact]
    public async Task Roles_created_in_sql_log_in_with_their_own_passwords_and_alter_role_changes_them()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("create role auth_app login password 'first'; create role auth_nologin password 'x'");
        await using (var app = await fixture.OpenAsync("auth_app", "first"))
            Assert.Equal("auth_app", await app.TextAsync("select session_user"));
        await admin.ExecAsync("alter role auth_app password 'second'");
        Assert.Equal("28P01", (await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("auth_app", "first"))).SqlState);
        await using (var app = await fixture.OpenAsync("auth_app", "second"))
            Assert.Equal("auth_app", await app.TextAsync("select current_user"));

        var nologin = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("auth_nologin", "x"));
        Assert.Equal("28000", nologin.SqlState);
        Assert.Equal("role \"auth_nologin\" is not permitted to log in", nologin.MessageText);
    }

    [Fact]
    public async Task Psql_logs_in_with_scram_and_is_refused_with_a_wrong_password()
    {
        var url = $"postgresql://postgres@127.0.0.1:{fixture.Server.Port}/postgres";
        var ok = await ExternalTool.RunAsync("psql", [url, "-XAtc", "select current_user"], environment: fixture.PsqlEnvironment());
        Assert.True(ok.ExitCode == 0, ok.All);
        Assert.Equal("postgres", ok.Stdout.Trim());

        var wrong = await ExternalTool.RunAsync("psql", [url, "-XAtc", "select 1"], environment: fixture.PsqlEnvironment(password: "nope"));
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("FATAL:  password authentication failed for user \"postgres\"", wrong.Stderr);
    }

    [Fact]
    public async Task The_password_is_also_set_in_the_connection_string_the_server_hands_out()
    {
        await using var connection = new NpgsqlConnection(fixture.Server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        Assert.Equal("1", await connection.TextAsync("select 1"));
    }
}
