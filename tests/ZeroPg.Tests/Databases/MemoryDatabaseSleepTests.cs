using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>
/// memory://: a database without clients for --database-idle-timeout goes to sleep (its cluster kept as a tar, its engine
/// stopped) and its next client finds everything as it was: rows, unlogged rows, sequences, extensions, replication slots.
/// </summary>
public sealed class MemoryDatabaseSleepTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);

    /// <summary>The idle time above, and an engine host process per engine.</summary>
    private static ZeroPgOptions EngineProcesses => new() { DatabaseIdleTimeout = Idle, EngineHost = ZeroPg.Engine.EngineHostMode.Process };

    [Fact]
    public async Task An_idle_memory_database_sleeps_and_its_next_client_finds_everything_as_it_left_it()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DatabaseIdleTimeout = Idle }, TestLogging.Factory);
        await server.ExecAsync("postgres", "CREATE DATABASE napping");
        var entry = server.Services.Databases.Find("napping")!;
        var firstEngine = entry.RunningServices!.Engine.EngineId;
        await server.ExecAsync("napping", """
            CREATE EXTENSION citext;
            CREATE TABLE notes (id serial PRIMARY KEY, body citext);
            INSERT INTO notes (body) VALUES ('Before');
            CREATE UNLOGGED TABLE scratch (n int);
            INSERT INTO scratch VALUES (42);
            SELECT pg_create_logical_replication_slot('nap_slot', 'pgoutput');
            """);

        await Eventually.WaitUntilAsync(() => Asleep(entry), "napping went to sleep", TimeSpan.FromMinutes(1));
        var firstTar = entry.Site.Seed!;
        Assert.True(File.Exists(firstTar));
        // Asleep, its slot is still in the cluster's view, as a stopped on-disk database's is.
        Assert.Equal("nap_slot", await server.TextAsync("postgres", "SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE database = 'napping'"));
        // Its size is read from the tar, as a stopped on-disk database's from its folder (a fresh database's files are ~7.5 MB).
        Assert.Equal("True", await server.TextAsync("postgres", "SELECT pg_database_size('napping') > 7000000"));

        // Unlogged rows survive: the tar is as after a clean shutdown, so the next start runs no crash recovery.
        Assert.Equal("Before|42|2", await server.TextAsync("napping",
            "INSERT INTO notes (body) VALUES ('after') RETURNING (SELECT body FROM notes WHERE body = 'BEFORE') || '|' || (SELECT n FROM scratch) || '|' || id"));
        Assert.NotEqual(firstEngine, entry.RunningServices!.Engine.EngineId);

        await Eventually.WaitUntilAsync(() => Asleep(entry) && entry.Site.Seed != firstTar, "napping went to sleep again", TimeSpan.FromMinutes(1));
        Assert.False(File.Exists(firstTar), "the first sleep's tar is deleted once the database starts from the second's");
        var secondTar = entry.Site.Seed!;
        Assert.Equal("Before,after", await server.TextAsync("napping", "SELECT string_agg(body::text, ',' ORDER BY id) FROM notes"));

        await Eventually.WaitUntilAsync(() => Asleep(entry), "napping asleep before its drop", TimeSpan.FromMinutes(1));
        await server.ExecAsync("postgres", "DROP DATABASE napping");
        Assert.False(File.Exists(secondTar), "a dropped database's tar goes with it");
    }

    [Fact]
    public async Task A_database_with_a_client_or_over_the_size_limit_keeps_its_engine()
    {
        // A fresh database's files are ~7.5 MB: one with 16 MB more is over a 12 MB limit.
        var options = new ZeroPgOptions { DatabaseIdleTimeout = Idle, MemoryDatabaseSleepLimit = 12L << 20 };
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        foreach (var name in new[] { "large", "held", "small" })
            await server.ExecAsync("postgres", $"CREATE DATABASE {name}");
        await server.ExecAsync("large", "CREATE TABLE filler AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 16000) g");
        await using var holder = await server.OpenAsync("held");
        var catalog = server.Services.Databases;
        var (large, held, small) = (catalog.Find("large")!, catalog.Find("held")!, catalog.Find("small")!);
        var engines = (large.RunningServices!.Engine.EngineId, held.RunningServices!.Engine.EngineId);

        // small sleeps, wakes and sleeps again: two idle checks at least went by for the others.
        await Eventually.WaitUntilAsync(() => Asleep(small), "small went to sleep", TimeSpan.FromMinutes(1));
        var firstTar = small.Site.Seed;
        Assert.Equal("1", await server.TextAsync("small", "SELECT 1"));
        await Eventually.WaitUntilAsync(() => Asleep(small) && small.Site.Seed != firstTar, "small went to sleep again", TimeSpan.FromMinutes(1));

        Assert.Equal(engines, (large.RunningServices?.Engine.EngineId, held.RunningServices?.Engine.EngineId));
        Assert.Equal("1", await holder.TextAsync("SELECT 1"));
        await holder.CloseAsync();
        await Eventually.WaitUntilAsync(() => Asleep(held), "held went to sleep once its client left", TimeSpan.FromMinutes(1));
        Assert.Equal("16000", await server.TextAsync("large", "SELECT count(*) FROM filler"));
    }

    [Fact]
    public async Task Clients_that_come_and_go_around_the_sleeps_lose_nothing()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DatabaseIdleTimeout = TimeSpan.FromMilliseconds(300) }, TestLogging.Factory);
        await server.ExecAsync("postgres", "CREATE DATABASE busy");
        await server.ExecAsync("busy", "CREATE TABLE visits (n int PRIMARY KEY)");
        var entry = server.Services.Databases.Find("busy")!;
        var random = new Random(7);
        var slept = 0;
        for (var n = 1; n <= 12; n++)
        {
            // Pauses around the idle time: some clients come while a sleep's dump runs, some to a sleeping database.
            await Task.Delay(random.Next(150, 900));
            slept += entry.RunningServices is null ? 1 : 0;
            await server.ExecAsync("busy", $"INSERT INTO visits VALUES ({n})");
        }
        Assert.Equal("12|78", await server.TextAsync("busy", "SELECT count(*) || '|' || sum(n) FROM visits"));
        Assert.True(slept > 0, "the database slept between some of the visits");
    }

    [Fact]
    public async Task A_sleeping_database_can_be_copied_renamed_and_wakes_in_an_engine_process_of_its_own()
    {
        // An engine host process per engine: its shutdown writes the tar as the shared host's worker does.
        await using var server = await ZeroPgServer.StartAsync(EngineProcesses, TestLogging.Factory);
        await server.ExecAsync("postgres", "CREATE DATABASE original");
        await server.ExecAsync("original", "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')");
        var catalog = server.Services.Databases;
        await Eventually.WaitUntilAsync(() => Asleep(catalog.Find("original")!), "original went to sleep", TimeSpan.FromMinutes(1));

        await server.ExecAsync("postgres", "CREATE DATABASE copied TEMPLATE original");
        await Eventually.WaitUntilAsync(() => Asleep(catalog.Find("original")!), "original asleep again after the copy", TimeSpan.FromMinutes(1));
        await server.ExecAsync("postgres", "ALTER DATABASE original RENAME TO renamed");
        Assert.Null(catalog.Find("original"));

        Assert.Equal("kept", await server.TextAsync("copied", "SELECT body FROM notes"));
        Assert.Equal("renamed|kept", await server.TextAsync("renamed", "SELECT current_database() || '|' || body FROM notes"));
        await Eventually.WaitUntilAsync(() => Asleep(catalog.Find("renamed")!), "renamed went to sleep under its new name", TimeSpan.FromMinutes(1));
        Assert.Equal("renamed|kept", await server.TextAsync("renamed", "SELECT current_database() || '|' || body FROM notes"));
    }

    [Fact]
    public async Task A_database_whose_engine_dies_while_it_goes_to_sleep_refuses_its_clients_until_it_is_dropped()
    {
        // An engine host process per engine, killed as its shutdown writes the tar: the data it held since its seed is gone.
        await using var server = await ZeroPgServer.StartAsync(EngineProcesses, TestLogging.Factory);
        await server.ExecAsync("postgres", "CREATE DATABASE doomed");
        // ~20 MB of rows: the shutdown checkpoint and the tar take long enough to be caught in (~0.1-0.5 s).
        await server.ExecAsync("doomed", "CREATE TABLE filler AS SELECT g, repeat('x', 400) AS pad FROM generate_series(1, 40000) g");
        var entry = server.Services.Databases.Find("doomed")!;
        PostgresException? refused = null;
        for (var attempt = 1; attempt <= 5 && refused is null; attempt++)
        {
            // Awake (a sleep that finished before the kill is woken again, and the next one tried).
            Assert.Equal("40000", await server.TextAsync("doomed", "SELECT count(*) FROM filler"));
            var engine = entry.RunningServices!.Engine.Running!;
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (entry.RunningServices is not null && DateTime.UtcNow < deadline)
                Thread.SpinWait(1000); // the sleep has begun once no engine is the database's
            try
            {
                System.Diagnostics.Process.GetProcessById(engine.ProcessId).Kill();
            }
            catch (Exception error) when (error is InvalidOperationException or ArgumentException)
            {
                // Gone already: this sleep ended before the kill came.
            }
            try // a client's start waits for the sleep to end: from its tar, or refused
            {
                await server.ExecAsync("doomed", "SELECT 1");
            }
            catch (PostgresException error)
            {
                refused = error;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal("58030", refused.SqlState);
        Assert.Contains("database \"doomed\" lost its data", refused.MessageText);
        Assert.Contains("DROP DATABASE", refused.Hint);
        Assert.Equal("1", await server.TextAsync("postgres", "SELECT 1")); // nobody else's data went with it
        await server.ExecAsync("postgres", "DROP DATABASE doomed");
        await server.ExecAsync("postgres", "CREATE DATABASE doomed");
        Assert.Equal("0", await server.TextAsync("doomed", "SELECT count(*) FROM pg_class WHERE relname = 'filler'"));
    }

    /// <summary>Its engine stopped and the database starts from a sleep's tar (the seed is replaced once the engine has written it).</summary>
    private static bool Asleep(ZeroPg.Databases.DatabaseEntry entry) =>
        entry.RunningServices is null && Path.GetFileName(entry.Site.Seed ?? "").StartsWith(".sleep-", StringComparison.Ordinal);
}
