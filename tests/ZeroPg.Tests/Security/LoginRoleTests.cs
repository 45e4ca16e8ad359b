using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Security;

/// <summary>
/// Each client runs as its own login role in the shared engine session: GRANT/REVOKE and row-level security are
/// enforced by the engine per client, while clients of different roles take turns on the engine.
/// </summary>
[Collection(SecuredServerCollection.Name)]
public sealed class LoginRoleTests(SecuredServerFixture fixture)
{
    [Fact]
    public async Task Grants_are_enforced_per_client_while_clients_of_two_roles_interleave()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("""
            create role lr_reader login password 'r';
            create table lr_secret (x int); insert into lr_secret values (42);
            create table lr_public (x int); insert into lr_public values (7);
            grant select on lr_public to lr_reader;
            """);
        await using var reader = await fixture.OpenAsync("lr_reader", "r");
        for (var round = 0; round < 3; round++)
        {
            Assert.Equal("7", await reader.TextAsync("select x from lr_public"));
            var denied = await Assert.ThrowsAsync<PostgresException>(() => reader.TextAsync("select x from lr_secret"));
            Assert.Equal("42501", denied.SqlState);
            Assert.Equal("permission denied for table lr_secret", denied.MessageText);
            // The superuser client in between still reads everything.
            Assert.Equal("42", await admin.TextAsync("select x from lr_secret"));
            Assert.Equal("postgres", await admin.TextAsync("select current_user"));
            Assert.Equal("lr_reader", await reader.TextAsync("select current_user"));
        }
        await admin.ExecAsync("grant select on lr_secret to lr_reader");
        Assert.Equal("42", await reader.TextAsync("select x from lr_secret"));
    }

    [Fact]
    public async Task Row_level_security_shows_each_client_its_own_rows()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("""
            create role lr_alice login password 'a'; create role lr_bob login password 'b';
            create table lr_notes (owner name default current_user, body text);
            alter table lr_notes enable row level security;
            create policy own on lr_notes using (owner = current_user) with check (owner = current_user);
            grant select, insert on lr_notes to lr_alice, lr_bob;
            """);
        await using var alice = await fixture.OpenAsync("lr_alice", "a");
        await using var bob = await fixture.OpenAsync("lr_bob", "b");
        await alice.ExecAsync("insert into lr_notes (body) values ('alice 1')");
        await bob.ExecAsync("insert into lr_notes (body) values ('bob 1')");
        await alice.ExecAsync("insert into lr_notes (body) values ('alice 2')");
        Assert.Equal("alice 1,alice 2", await alice.TextAsync("select string_agg(body, ',' order by body) from lr_notes"));
        Assert.Equal("bob 1", await bob.TextAsync("select string_agg(body, ',' order by body) from lr_notes"));
        var forged = await Assert.ThrowsAsync<PostgresException>(() => bob.ExecAsync("insert into lr_notes (owner, body) values ('lr_alice', 'forged')"));
        Assert.Equal("42501", forged.SqlState);
        Assert.Equal("3", await admin.TextAsync("select count(*) from lr_notes"));
    }

    [Theory]
    [InlineData("set session authorization postgres")]
    [InlineData("SET SESSION  AUTHORIZATION DEFAULT")]
    [InlineData("reset session authorization")]
    [InlineData("set session_authorization = 'postgres'")]
    [InlineData("select set_config('session_authorization', 'postgres', false)")]
    [InlineData("do $$ begin execute 'set session authorization postgres'; end $$")]
    public async Task A_role_that_is_not_a_superuser_cannot_take_another_identity(string sql)
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("do $$ begin if not exists (select from pg_roles where rolname = 'lr_plain') then create role lr_plain login password 'p'; end if; end $$");
        await using var plain = await fixture.OpenAsync("lr_plain", "p");
        var error = await Assert.ThrowsAsync<PostgresException>(() => plain.ExecAsync(sql));
        Assert.Equal("42501", error.SqlState);
        Assert.Equal("permission denied to set session authorization", error.MessageText);
        // Through the extended protocol too (Npgsql with a parameter sends Parse/Bind).
        await using (var command = new NpgsqlCommand("select set_config('session_authorization', $1, false)", plain))
        {
            command.Parameters.AddWithValue("postgres");
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync())).SqlState);
        }
        Assert.Equal("lr_plain|lr_plain|off", await plain.TextAsync("select current_user || '|' || session_user || '|' || current_setting('is_superuser')"));
    }

    [Fact]
    public async Task A_superuser_may_take_another_identity_and_keeps_it_across_other_clients_turns()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("do $$ begin if not exists (select from pg_roles where rolname = 'lr_target') then create role lr_target login password 't'; end if; end $$");
        await using var other = await fixture.OpenAsync();
        await admin.ExecAsync("set session authorization lr_target");
        Assert.Equal("postgres", await other.TextAsync("select current_user"));
        Assert.Equal("lr_target", await admin.TextAsync("select current_user"));
        // PGlite's single-user session has no login identity for RESET/DEFAULT to return to: the role is named.
        await admin.ExecAsync("set session authorization postgres");
        Assert.Equal("postgres", await admin.TextAsync("select current_user"));
        Assert.Equal("postgres", await other.TextAsync("select current_user"));
    }

    [Fact]
    public async Task Temp_tables_of_a_role_survive_turns_of_other_roles_and_are_dropped_when_it_leaves()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("do $$ begin if not exists (select from pg_roles where rolname = 'lr_temp') then create role lr_temp login password 't'; end if; end $$");
        await using (var client = await fixture.OpenAsync("lr_temp", "t"))
        {
            await client.ExecAsync("create temp table lr_scratch (x int); insert into lr_scratch values (1)");
            await admin.ExecAsync("create temp table lr_scratch (y text)"); // the same name, another client
            await client.ExecAsync("insert into lr_scratch values (2)");
            Assert.Equal("3", await client.TextAsync("select sum(x) from lr_scratch"));
            Assert.Equal("0", await admin.TextAsync("select count(*) from lr_scratch"));
        }
        await Eventually.WaitUntilAsync(async () => await admin.TextAsync("select count(*) from pg_class where relname like '%lr_scratch%' and relpersistence = 't'") == "1",
            "the departed client's temp table is dropped");
    }

    [Fact]
    public async Task The_startup_report_names_the_login_role()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("do $$ begin if not exists (select from pg_roles where rolname = 'lr_report') then create role lr_report login password 'r'; end if; end $$");
        await using var client = await fixture.OpenAsync("lr_report", "r");
        Assert.Equal("lr_report", client.PostgresParameters["session_authorization"]);
        Assert.Equal("off", client.PostgresParameters["is_superuser"]);
    }

    [Fact]
    public async Task Advisory_locks_work_between_clients_of_different_roles()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("do $$ begin if not exists (select from pg_roles where rolname = 'lr_locker') then create role lr_locker login password 'l'; end if; end $$");
        await using var locker = await fixture.OpenAsync("lr_locker", "l");
        Assert.Equal("True", await admin.TextAsync("select pg_try_advisory_lock(4711)"));
        Assert.Equal("False", await locker.TextAsync("select pg_try_advisory_lock(4711)"));
        Assert.Equal("True", await locker.TextAsync("select pg_try_advisory_lock(4712)"));
        Assert.Equal("False", await admin.TextAsync("select pg_try_advisory_lock(4712)"));
        Assert.Equal("1", await admin.TextAsync($"select count(*) from pg_locks where locktype = 'advisory' and objid = 4712 and pid = {locker.ProcessID}"));
        Assert.Equal("True", await admin.TextAsync("select pg_advisory_unlock(4711)"));
        Assert.Equal("True", await locker.TextAsync("select pg_try_advisory_lock(4711)"));
    }
}
