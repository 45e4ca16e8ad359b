using ZeroPg.Engine.Pooled;

namespace ZeroPg.Tests.Engine.Pooled;

public sealed class SessionPinsTests
{
    [Theory]
    [InlineData("SET search_path = x", null)]
    [InlineData("SET ROLE alice", null)]
    [InlineData("set session authorization alice", "SET SESSION AUTHORIZATION")]
    [InlineData("SET SESSION SESSION AUTHORIZATION alice", "SET SESSION AUTHORIZATION")]
    [InlineData("SET SESSION ROLE alice", null)]
    [InlineData("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", null)]
    [InlineData("BEGIN; DECLARE held CURSOR WITH HOLD FOR SELECT 1; COMMIT", "a cursor WITH HOLD")]
    [InlineData("DECLARE held CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 10) g", "a cursor WITH HOLD")]
    [InlineData("create temp table t (a int)", "a temporary relation")]
    [InlineData("SELECT pg_try_advisory_lock(1)", "a session advisory lock")]
    [InlineData("listen jobs", "LISTEN")]
    [InlineData("PREPARE p AS SELECT 1", "PREPARE")]
    [InlineData("select set_config('a.b', '1', false)", null)]
    [InlineData("SET LOCAL work_mem = '8MB'", null)]
    [InlineData("UPDATE t SET a = 1 WHERE b = 'listen; set x = 1'", null)]
    [InlineData("SELECT pg_advisory_xact_lock(1) /* set temp */", null)]
    [InlineData("SELECT $$ LISTEN x $$; -- set x\nSELECT 1", null)]
    [InlineData("PREPARE TRANSACTION 'x'", null)]
    [InlineData("SELECT PG_ADVISORY_LOCK(1)", "a session advisory lock")]
    [InlineData("CREATE TEMPORARY TABLE t (a int)", "a temporary relation")]
    [InlineData("LOAD 'auto_explain'", "LOAD")]
    [InlineData("SELECT abalance FROM pgbench_accounts WHERE aid = 1;", null)]
    [InlineData("SELECT a_column_name_longer_than_thirty_two_chars FROM t; LISTEN jobs", "LISTEN")]
    [InlineData("SELECT Pg_Try_Advisory_Lock_Shared(1)", "a session advisory lock")]
    [InlineData("select pg_advisory_lock_with_a_name_longer_than_thirty_two_chars(1)", "a session advisory lock")]
    [InlineData("SELECT listener, temperature FROM holdings", null)]
    [InlineData("/* who */ SET SESSION AUTHORIZATION alice", "SET SESSION AUTHORIZATION")]
    [InlineData("UPDATE t SET a = 1; set session authorization alice;", "SET SESSION AUTHORIZATION")]
    public void Statements_that_leave_session_state_pin_their_client(string sql, string? reason)
        => Assert.Equal(reason, SessionPins.Reason(sql));

    [Theory]
    // TPC-B sends three of these per transaction: an UPDATE's SET is no session's, so no scan, and none of its allocations.
    [InlineData("UPDATE pgbench_accounts SET abalance = abalance + -4242 WHERE aid = 123456;", false, 0)]
    // A SET is scanned: only the scan's list is allocated, none of the words it reads.
    [InlineData("SET statement_timeout = 5000, application_name_of_a_client = 'abc';", true, 160)]
    public void The_pin_check_allocates_none_of_the_words_it_reads(string sql, bool changes, long mostAllocated)
    {
        Assert.Null(SessionPins.Reason(sql, out var changesSettings));
        Assert.Equal(changes, changesSettings);
        var before = GC.GetAllocatedBytesForCurrentThread();
        SessionPins.Reason(sql, out _);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= mostAllocated, $"{allocated} B allocated");
    }

    [Theory]
    [InlineData("SET search_path = x", true)]
    [InlineData("set time zone 'UTC'", true)]
    [InlineData("select set_config('a.b', '1', false)", true)]
    [InlineData("RESET ALL", true)]
    [InlineData("discard all", true)]
    [InlineData("SELECT 1; RESET work_mem", true)]
    [InlineData("DO $$ BEGIN PERFORM set_config('work_mem', '3MB', false); END $$", true)]
    [InlineData("CALL refresh_all()", true)]
    [InlineData("EXECUTE p1(1)", true)]
    [InlineData("SET ROLE alice", true)]
    [InlineData("RESET ROLE", true)]
    [InlineData("SET LOCAL ROLE alice", false)]
    [InlineData("SET LOCAL work_mem = '8MB'", false)]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", false)]
    [InlineData("  set work_mem = '1MB';", true)]
    [InlineData("/* tuned */ set work_mem = '1MB'", true)]
    [InlineData("UPDATE t SET a = 1; SET work_mem = '1MB'", true)]
    [InlineData("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 2", false)]
    [InlineData("SELECT 'set x = 1' /* reset */", false)]
    public void Statements_that_may_change_settings_have_them_read_back(string sql, bool changes)
    {
        SessionPins.Reason(sql, out var changesSettings);
        Assert.Equal(changes, changesSettings);
    }

    [Theory]
    [InlineData("ALTER ROLE app PASSWORD 'x'", true)]
    [InlineData("alter user app with nologin", true)]
    [InlineData("SELECT 1; CREATE ROLE app", true)]
    [InlineData("DROP GROUP staff", true)]
    [InlineData("DO $$ BEGIN EXECUTE 'ALTER ROLE app NOLOGIN'; END $$", true)]
    [InlineData("SELECT current_user, session_user", false)]
    [InlineData("UPDATE users SET role = 'admin'", false)]
    [InlineData("SELECT 'alter role app' /* drop user */", false)]
    [InlineData("SELECT abalance FROM pgbench_accounts WHERE aid = 1;", false)]
    public void Statements_that_may_change_a_login_role_are_seen(string sql, bool changes) => Assert.Equal(changes, SessionPins.MayChangeRoles(sql));

    [Theory]
    [InlineData("DISCARD ALL", true)]
    [InlineData("discard all;", true)]
    [InlineData("DISCARD ALL; SET x = 1", false)]
    [InlineData("DISCARD TEMP", false)]
    public void Discard_all_alone_unpins(string sql, bool unpins) => Assert.Equal(unpins, SessionPins.IsDiscardAll(sql));
}
