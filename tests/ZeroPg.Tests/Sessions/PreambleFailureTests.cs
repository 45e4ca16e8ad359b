using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// The statements that bring the shared engine session to a client's state (its settings, its temp tables under their
/// names, its role) can fail in the engine. A client's statements must then never run in another client's state.
/// </summary>
[Collection(ServerCollection.Name)]
public class PreambleFailureTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_read_only_client_still_gets_its_own_temp_table_back_and_never_another_clients()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ScalarAsync("CREATE TEMP TABLE pf_scratch(who text); INSERT INTO pf_scratch VALUES ('a')");
        await b.ScalarAsync("CREATE TEMP TABLE pf_scratch(who text); INSERT INTO pf_scratch VALUES ('b')");
        await b.ScalarAsync("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
        Assert.Equal("a", await a.ScalarAsync("SELECT string_agg(who, ',') FROM pf_scratch"));
        // b's session is read-only: the renames that bring its temp table back must still run (as in Postgres, where nothing is renamed).
        Assert.Equal("b", await b.ScalarAsync("SELECT string_agg(who, ',') FROM pf_scratch"));
        Assert.Equal("a", await a.ScalarAsync("SELECT string_agg(who, ',') FROM pf_scratch"));
        Assert.Equal("on", await b.ScalarAsync("SHOW default_transaction_read_only"));
    }

    [Fact]
    public async Task A_read_only_clients_COPY_gets_its_temp_table_back_and_costs_the_next_client_nothing()
    {
        // Found by bench/outside-fuzz.mjs: a COPY's preamble ran as plain swallowed Queries, so under the client's read-only
        // default the rename bringing its temp table back failed unseen while the bookkeeping took it as done; the client's
        // next CREATE TEMP TABLE IF NOT EXISTS made a second one, and the next client's restore met the name twice (42P07) and
        // was ended with 57P01 (the fuzzer's witness).
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ScalarAsync("CREATE TEMP TABLE pf_copied(who text); INSERT INTO pf_copied VALUES ('a')");
        await a.ScalarAsync("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
        Assert.Equal(1, await b.ScalarAsync("SELECT 1")); // b has the engine: a's table goes aside
        string? copyFailed = null;
        try
        {
            await using (var writer = await a.BeginTextImportAsync("COPY pf_copied FROM STDIN")) // a temp table: allowed read-only
                await writer.WriteLineAsync("a2");
        }
        catch (PostgresException e)
        {
            copyFailed = $"{e.SqlState}: {e.MessageText}"; // was 42P01: the table still had its aside name
        }
        await a.ScalarAsync("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE");
        await a.ScalarAsync("CREATE TEMP TABLE IF NOT EXISTS pf_copied(who text)");

        Assert.Equal(1, await b.ScalarAsync("SELECT 1")); // was 57P01: its restore met a's table under both names
        Assert.Null(copyFailed);
        Assert.Equal("a,a2", await a.ScalarAsync("SELECT string_agg(who, ',' ORDER BY who) FROM pf_copied"));
    }

    [Fact]
    public async Task A_session_whose_state_the_engine_no_longer_takes_ends_with_57P01_and_leaves_the_others_theirs()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        var failuresBefore = fixture.Server.Metrics.SessionRestoreFailures;
        await a.ScalarAsync("CREATE TEMP TABLE pf_mine(who text); INSERT INTO pf_mine VALUES ('a')");
        await b.ScalarAsync("CREATE TEXT SEARCH CONFIGURATION pf_ts (COPY = english); SET default_text_search_config = 'pf_ts'");
        await a.ScalarAsync("DROP TEXT SEARCH CONFIGURATION pf_ts");

        // b's setting names what a dropped: restoring it fails in the engine, twice; b is told and ended, nothing of its statement ran.
        var ended = await Assert.ThrowsAsync<PostgresException>(() => b.ScalarAsync("INSERT INTO pf_log VALUES (1)"));
        Assert.Equal("57P01", ended.SqlState);
        Assert.Contains("could not be restored", ended.MessageText);
        Assert.True(fixture.Server.Metrics.SessionRestoreFailures >= failuresBefore + 2);

        // a is served in its own state (its temp table), no aborted block of ZeroPg's left in its way (25P02).
        Assert.Equal("a", await a.ScalarAsync("SELECT string_agg(who, ',') FROM pf_mine"));
        await using var c = await fixture.OpenAsync();
        Assert.Equal("pg_catalog.english", await c.ScalarAsync("SHOW default_text_search_config"));
    }

    [Fact]
    public async Task A_read_only_client_that_leaves_has_its_temp_tables_dropped()
    {
        await using (var b = await fixture.OpenAsync())
        {
            await b.ScalarAsync("CREATE TEMP TABLE pf_left(x int); INSERT INTO pf_left VALUES (1)");
            await b.ScalarAsync("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
        }
        await using var c = await fixture.OpenAsync();
        await Eventually.WaitUntilAsync(async () => (long)(await c.ScalarAsync("SELECT count(*) FROM pg_class WHERE relname LIKE '%pf_left'"))! == 0,
            "the read-only client's temp table dropped when it left", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Advisory_locks_are_set_up_after_a_read_only_client_had_the_engine()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var b = new NpgsqlConnection(server.GetConnectionString());
        await b.OpenAsync();
        await b.ScalarAsync("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
        await using var a = new NpgsqlConnection(server.GetConnectionString());
        await a.OpenAsync();
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock(42)"));
        Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(42)"));
    }

    [Fact]
    public async Task A_temp_table_dropped_where_no_analysis_sees_it_fails_no_other_clients_restore()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ScalarAsync("CREATE TEMP TABLE pf_stale(x int)");
        await a.ScalarAsync("CREATE FUNCTION pg_temp.pf_drop() RETURNS void LANGUAGE plpgsql AS $$BEGIN DROP TABLE pg_temp.pf_stale; END$$");
        await a.ScalarAsync("SELECT pg_temp.pf_drop()"); // a plain SELECT: ZeroPg still lists pf_stale as a's
        // b's restore renames a's relations aside: the one gone must not fail it (b was ended as unrestorable).
        Assert.Equal(1, await b.ScalarAsync("SELECT 1"));
        Assert.Equal(2, await a.ScalarAsync("SELECT 2"));
        Assert.Equal(3, await b.ScalarAsync("SELECT 3"));
    }
}
