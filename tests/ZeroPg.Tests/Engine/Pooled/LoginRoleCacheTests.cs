using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>A pool of ONE backend whose logins keep the roles they read for the whole test run.</summary>
public sealed class LoginRoleCachePoolFixture : ServerFixture
{
    protected override ZeroPgOptions Options() => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        MaxConnections = 20,
        PoolSize = 1,
        PoolWaitTimeout = TimeSpan.FromSeconds(20),
        PoolLoginRoleCacheAge = TimeSpan.FromHours(1),
        PostgresSettings = { ["shared_buffers"] = "32MB" },
        Security = new ZeroPg.Security.SecurityOptions { Password = "cache-fixture" }, // SCRAM: a wrong password is refused
    };
}

/// <summary>
/// Logins of a role read a moment ago take no backend of the pool; a role changed through the pool (its password, NOLOGIN) is
/// read again as soon as the change commits.
/// </summary>
public sealed class LoginRoleCacheTests(LoginRoleCachePoolFixture pooled) : IClassFixture<LoginRoleCachePoolFixture>
{
    private async Task<NpgsqlConnection> OpenAsAsync(string user, string password)
    {
        var builder = new NpgsqlConnectionStringBuilder(pooled.ConnectionString) { Username = user, Password = password, Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync();
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return connection;
    }

    private async Task<string> LogInAsync(string user, string password)
    {
        try
        {
            await using var connection = await OpenAsAsync(user, password);
            return "ok";
        }
        catch (PostgresException error)
        {
            return error.SqlState;
        }
    }

    [Fact]
    public async Task A_login_of_a_role_read_a_moment_ago_takes_no_backend()
    {
        await using var admin = await pooled.OpenAsync();
        await admin.ExecAsync("CREATE ROLE pooled_cached LOGIN PASSWORD 'first'");
        await using var first = await OpenAsAsync("pooled_cached", "first");
        Assert.Equal("pooled_cached", await first.TextAsync("SELECT current_user"));

        // The pool's one backend is held in a transaction: a login that needed it would wait 20 s and fail (57014).
        await admin.ExecAsync("BEGIN");
        Assert.Equal(1, await admin.ScalarAsync("SELECT 1"));
        await using var second = await OpenAsAsync("pooled_cached", "first");
        Assert.Equal(System.Data.ConnectionState.Open, second.State);
        Assert.Equal("28P01", await LogInAsync("pooled_cached", "wrong"));
        await admin.ExecAsync("COMMIT");
        Assert.Equal("pooled_cached", await second.TextAsync("SELECT current_user"));
    }

    [Fact]
    public async Task A_role_changed_through_the_pool_is_read_again_once_the_change_commits()
    {
        await using var admin = await pooled.OpenAsync();
        await admin.ExecAsync("CREATE ROLE pooled_changed LOGIN PASSWORD 'first'");
        Assert.Equal("ok", await LogInAsync("pooled_changed", "first"));

        await admin.ExecAsync("ALTER ROLE pooled_changed PASSWORD 'second'");
        Assert.Equal("28P01", await LogInAsync("pooled_changed", "first"));
        Assert.Equal("ok", await LogInAsync("pooled_changed", "second"));

        // Uncommitted, the change is not yet the role's (as Postgres has it); committed, it is.
        await admin.ExecAsync("BEGIN");
        await admin.ExecAsync("ALTER USER pooled_changed PASSWORD 'third'");
        Assert.Equal("ok", await LogInAsync("pooled_changed", "second"));
        await admin.ExecAsync("COMMIT");
        Assert.Equal("28P01", await LogInAsync("pooled_changed", "second"));
        Assert.Equal("ok", await LogInAsync("pooled_changed", "third"));

        // Inside code the scan cannot see into, and a role that may no longer log in.
        await admin.ExecAsync("DO $$ BEGIN EXECUTE 'ALTER ROLE pooled_changed NOLOGIN'; END $$");
        Assert.StartsWith("28", await LogInAsync("pooled_changed", "third")); // refused (as a wrong password: SCRAM runs to its end)
        await admin.ExecAsync("ALTER ROLE pooled_changed LOGIN");
        Assert.Equal("ok", await LogInAsync("pooled_changed", "third"));
        await admin.ExecAsync("DROP ROLE pooled_changed");
        Assert.StartsWith("28", await LogInAsync("pooled_changed", "third"));
    }
}
