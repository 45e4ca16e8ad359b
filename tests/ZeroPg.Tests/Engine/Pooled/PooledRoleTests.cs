using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>
/// SET ROLE through the pool, without a backend of its own: the role stays its client's from transaction to transaction on the
/// ONE backend it shares with other clients, its privileges apply, the others never run as it, RESET ROLE, a rolled-back SET
/// ROLE, SET LOCAL ROLE and DISCARD ALL behave as on a direct connection (native PostgreSQL 15, same script, is the reference).
/// </summary>
public sealed class PooledRoleTests(OneBackendPoolFixture pooled, NativePostgres native) : IClassFixture<OneBackendPoolFixture>, IClassFixture<NativePostgres>
{
    private const string SetUpSql = """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pooled_reader') THEN CREATE ROLE pooled_reader NOLOGIN; END IF;
        END $$;
        CREATE TABLE IF NOT EXISTS pooled_role_secret (v int);
        CREATE TABLE IF NOT EXISTS pooled_role_open (v int);
        GRANT SELECT ON pooled_role_open TO pooled_reader;
        """;

    /// <summary>Who the client runs as, and whether the role's privileges apply (the secret table is the login role's alone).</summary>
    private static async Task<string> ReadAsync(string name, NpgsqlConnection connection)
    {
        var who = await connection.TextAsync("SELECT current_user || '|' || session_user || '|' || current_setting('role') || '|' "
            + "|| current_setting('log_min_duration_statement') || '|' || (SELECT count(*) FROM pooled_role_open)");
        string secret;
        try
        {
            secret = (await connection.ScalarAsync("SELECT count(*) FROM pooled_role_secret"))!.ToString()!;
        }
        catch (PostgresException error)
        {
            secret = error.SqlState;
        }
        return $"{name}: {who}|{secret}";
    }

    private static async Task<List<string>> RunScriptAsync(Func<Task<NpgsqlConnection>> open)
    {
        var log = new List<string>();
        await using var a = await open();
        await using var b = await open();
        await a.ExecAsync(SetUpSql);
        async Task ReadAll(string step)
        {
            log.Add(step);
            log.Add(await ReadAsync("a", a));
            log.Add(await ReadAsync("b", b));
        }

        // A setting only a superuser may set, before the SET ROLE: it is given back before the role is.
        await a.ExecAsync("SET log_min_duration_statement = '5s'");
        await a.ExecAsync("SET ROLE pooled_reader");
        for (var i = 0; i < 3; i++)
            await ReadAll($"a set role, round {i}");
        await a.ExecAsync("BEGIN; RESET ROLE; ROLLBACK");
        await ReadAll("a's RESET ROLE rolled back");
        await b.ExecAsync("SELECT set_config('role', 'pooled_reader', false)");
        await a.ExecAsync("RESET ROLE");
        await ReadAll("b set_config role, a reset role");
        await a.ExecAsync("BEGIN");
        await a.ExecAsync("SET LOCAL ROLE pooled_reader");
        log.Add("a in SET LOCAL ROLE: " + await a.TextAsync("SELECT current_user"));
        await a.ExecAsync("COMMIT");
        await ReadAll("a's SET LOCAL ROLE committed");
        await b.ExecAsync("DISCARD ALL");
        await a.ExecAsync("SET SESSION ROLE pooled_reader");
        await ReadAll("b discarded all, a set session role");
        await a.ExecAsync("SET ROLE NONE");
        await ReadAll("a set role none");
        return log;
    }

    [Fact]
    public async Task A_role_stays_with_its_client_on_a_backend_shared_with_others_as_on_a_direct_connection()
    {
        var reference = await RunScriptAsync(async () =>
        {
            var connection = new NpgsqlConnection(native.ConnectionString());
            await connection.OpenAsync();
            return connection;
        });
        // A pool of one: a client that kept its backend for its role would make the other wait until its timeout (57014).
        var through = await RunScriptAsync(() => pooled.OpenAsync());

        Assert.Equal(reference, through);
        // Not vacuous: a ran as the role, without the secret's privilege, while b ran as the login role on the same backend.
        Assert.Contains("a: pooled_reader|postgres|pooled_reader|5s|0|42501", through);
        Assert.Contains("b: postgres|postgres|none|-1|0|0", through);
    }

    [Fact]
    public async Task A_role_that_can_no_longer_be_set_ends_its_client_instead_of_running_it_as_the_login_role()
    {
        await using var admin = await pooled.OpenAsync();
        await admin.ExecAsync("CREATE ROLE pooled_gone NOLOGIN");
        await using var a = await pooled.OpenAsync();
        await a.ExecAsync("SET ROLE pooled_gone");
        Assert.Equal("pooled_gone", await a.TextAsync("SELECT current_user"));
        // The one backend goes to admin (its role reset there), which drops the role.
        await admin.ExecAsync("DROP ROLE pooled_gone");
        Assert.Equal("postgres", await admin.TextAsync("SELECT current_user"));

        var error = await Assert.ThrowsAsync<PostgresException>(() => a.TextAsync("SELECT current_user"));
        Assert.Equal("FATAL", error.Severity);
        Assert.Contains("pooled_gone", error.MessageText);
        Assert.Equal("postgres", await admin.TextAsync("SELECT current_user"));
    }

    [Fact]
    public async Task A_session_authorization_set_where_the_scan_cannot_see_keeps_its_backend_and_no_other_client_gets_it()
    {
        await using var admin = await pooled.OpenAsync();
        await admin.ExecAsync("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pooled_authorized') THEN CREATE ROLE pooled_authorized NOLOGIN; END IF; END $$");
        await using (var a = await pooled.OpenAsync())
        {
            await a.ExecAsync("DO $$ BEGIN PERFORM set_config('session_authorization', 'pooled_authorized', false); END $$");
            Assert.Equal("pooled_authorized", await a.TextAsync("SELECT session_user"));
            Assert.Equal("pooled_authorized", await a.TextAsync("SELECT session_user"));
        }
        // The backend left with its client (closed, never lent again): whoever gets the pool's one backend runs as the login role.
        Assert.Equal("postgres|postgres", await admin.TextAsync("SELECT session_user || '|' || current_user"));
    }
}
