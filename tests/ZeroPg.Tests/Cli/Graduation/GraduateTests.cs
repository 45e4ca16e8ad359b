using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli.Graduation;

/// <summary>`zeropg graduate` and `zeropg dump` against native PostgreSQL 15, and back into ZeroPg.</summary>
[Collection(GraduationCollection.Name)]
public sealed class GraduateTests(GraduationFixture fixture)
{
    private NativePostgres Native => fixture.Native;

    [Fact]
    public async Task Every_object_kind_graduates_to_PostgreSQL_15_equal_and_a_pg_dump_of_it_restores_back_into_ZeroPg()
    {
        var target = await Native.CreateDatabaseAsync("graduated");
        var graduate = await ZeroPgCli.RunAsync(["graduate", "--db", fixture.ObjectsDirectory, "--to", target]);
        Assert.True(graduate.ExitCode == 0, graduate.All);
        Assert.Contains("Result: EQUAL", graduate.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"table shop\.orders\s+2,001 rows\s+2,001 rows\s+equal", graduate.Stdout);
        Assert.Matches(@"sequence shop\.invoice_numbers\s+15035\s+15035\s+equal", graduate.Stdout);
        Assert.Contains("zeropg tune", graduate.Stdout, StringComparison.Ordinal);
        Assert.Contains(target, graduate.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Pooled: zeropg serve --engine postgres --upstream \"postgresql://postgres:PASSWORD@127.0.0.1:{Native.Port}/", graduate.Stdout, StringComparison.Ordinal);

        // What the report does not cover, checked on the target itself: roles, grants, ownership,
        // RLS, functions with SQL-standard bodies, comments, the large value.
        var database = target[(target.LastIndexOf('/') + 1)..];
        Assert.Equal("app_owner", await Native.ScalarAsync<string>(database, "SELECT tableowner::text FROM pg_tables WHERE schemaname = 'shop' AND tablename = 'orders'"));
        Assert.True(await Native.ScalarAsync<bool>(database, "SELECT rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'app_reader'"));
        Assert.True(await Native.ScalarAsync<bool>(database, "SELECT pg_has_role('app_writer', 'app_reader', 'MEMBER')"));
        Assert.True(await Native.ScalarAsync<bool>(database, "SELECT has_table_privilege('app_reader', 'shop.customers', 'SELECT') AND has_column_privilege('app_writer', 'shop.orders', 'note', 'UPDATE') AND has_table_privilege('app_writer', 'shop.audit', 'SELECT')"));
        Assert.True(await Native.ScalarAsync<bool>(database, "SELECT relrowsecurity FROM pg_class WHERE oid = 'shop.orders'::regclass"));
        Assert.Equal(7L, await Native.ScalarAsync<long>(database, "SELECT shop.order_count(1)"));
        Assert.Equal("the shop; with 'quotes'", await Native.ScalarAsync<string>(database, "SELECT obj_description('shop'::regnamespace, 'pg_namespace')"));
        Assert.Equal(400_000, await Native.ScalarAsync<int>(database, "SELECT max(length(note)) FROM shop.orders"));

        // And back: PostgreSQL 15's own pg_dump of it, restored into a new ZeroPg data directory, is equal.
        var dumpFile = fixture.Sub("native15.sql");
        var pgDump = await ExternalTool.RunAsync("pg_dump", ["-d", target, "-f", dumpFile]);
        Assert.True(pgDump.ExitCode == 0, pgDump.All);
        var back = fixture.Sub("back from 15");
        var restore = await ZeroPgCli.RunAsync(["restore", "--db", back, dumpFile]);
        Assert.True(restore.ExitCode == 0, restore.All);
        var verify = await ZeroPgCli.RunAsync(["graduate", "--db", back, "--to", target, "--verify-only"]);
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.Contains("Result: EQUAL", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dump_for_PostgreSQL_15_restores_with_psql_on_error_stop_and_older_syntax_only()
    {
        var file = fixture.Sub("for15.sql");
        var dump = await ZeroPgCli.RunAsync(["dump", "--db", fixture.ObjectsDirectory, "-f", file]);
        Assert.True(dump.ExitCode == 0, dump.All);
        Assert.Contains("table shop.orders", dump.Stderr, StringComparison.Ordinal); // progress
        var text = await File.ReadAllTextAsync(file);
        Assert.DoesNotContain("transaction_timeout", text, StringComparison.Ordinal);
        Assert.DoesNotContain("MAINTAIN", text, StringComparison.Ordinal);
        // The client's column option is dumped; the engine's own (PGlite stamps every column with pg_attver=N) is not: Postgres refuses it
        Assert.Contains("ALTER COLUMN customer_id SET (n_distinct=250);", text, StringComparison.Ordinal);
        Assert.DoesNotContain("pg_attver", text, StringComparison.Ordinal);
        Assert.Contains("COPY shop.orders", text, StringComparison.Ordinal);
        Assert.Contains("CREATE ROLE \"app_reader\"", text, StringComparison.Ordinal);

        var target = await Native.CreateDatabaseAsync("psql");
        var psql = await ExternalTool.RunAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", target, "-f", file]);
        Assert.True(psql.ExitCode == 0, psql.All);
        var verify = await ZeroPgCli.RunAsync(["graduate", "--db", fixture.ObjectsDirectory, "--to", target, "--verify-only"]);
        Assert.True(verify.ExitCode == 0, verify.All);

        // For PostgreSQL 18 the dump keeps what 17 and 18 have.
        var for18 = await ZeroPgCli.RunAsync(["dump", "--db", fixture.ObjectsDirectory, "--target-version", "18", "-q"]);
        Assert.True(for18.ExitCode == 0, for18.All);
        Assert.Contains("SET transaction_timeout = 0;", for18.Stdout, StringComparison.Ordinal);
        Assert.Contains("MAINTAIN ON TABLE shop.audit", for18.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graduate_fails_on_a_difference_planted_in_the_target()
    {
        // An event trigger on the target changes the name in the third row COPY delivers to shop.customers.
        var target = await Native.CreateDatabaseAsync("planted");
        var database = target[(target.LastIndexOf('/') + 1)..];
        await Native.ExecuteAsync(database, """
            CREATE FUNCTION public.plant_row() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE n int := coalesce(nullif(current_setting('plant.rows', true), ''), '0')::int + 1;
            BEGIN PERFORM set_config('plant.rows', n::text, false); IF n = 3 THEN NEW.name := 'planted'; END IF; RETURN NEW; END $$;
            CREATE FUNCTION public.plant() RETURNS event_trigger LANGUAGE plpgsql AS $$
            DECLARE r record;
            BEGIN
                FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_identity = 'shop.customers' LOOP
                    EXECUTE format('CREATE TRIGGER planted BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION public.plant_row()', r.object_identity);
                END LOOP;
            END $$;
            CREATE EVENT TRIGGER plant ON ddl_command_end EXECUTE FUNCTION public.plant();
            """);
        var planted = await ZeroPgCli.RunAsync(["graduate", "--db", fixture.ObjectsDirectory, "--to", target]);
        Assert.True(planted.ExitCode == 1, planted.All);
        Assert.Matches(@"table shop\.customers\s+301 rows\s+301 rows\s+DIFFERENT", planted.Stdout);
        Assert.Matches(@"table shop\.orders\s+2,001 rows\s+2,001 rows\s+equal", planted.Stdout);
        Assert.Contains("Result: DIFFERENT", planted.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Next: point the app", planted.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_only_finds_a_changed_row_and_a_moved_sequence()
    {
        var target = await Native.CreateDatabaseAsync("changed");
        var graduate = await ZeroPgCli.RunAsync(["graduate", "--db", fixture.ObjectsDirectory, "--to", target, "-q"]);
        Assert.True(graduate.ExitCode == 0, graduate.All);
        var database = target[(target.LastIndexOf('/') + 1)..];
        await Native.ExecuteAsync(database, "UPDATE shop.orders SET note = note || '.' WHERE id = 42; SELECT setval('shop.orders_id_seq', 5000)");
        var verify = await ZeroPgCli.RunAsync(["graduate", "--db", fixture.ObjectsDirectory, "--to", target, "--verify-only"]);
        Assert.True(verify.ExitCode == 1, verify.All);
        Assert.Matches(@"table shop\.orders\s+2,001 rows\s+2,001 rows\s+DIFFERENT", verify.Stdout);
        Assert.Matches(@"sequence shop\.orders_id_seq\s+2001\s+5000\s+DIFFERENT", verify.Stdout);
        Assert.Matches(@"table shop\.customers\s+301 rows\s+301 rows\s+equal", verify.Stdout);
    }

    [Fact]
    public async Task A_target_that_refuses_gets_nothing_and_the_error_says_why()
    {
        // A user without CREATE on the database or on public (PostgreSQL 15's default for non-owners).
        var target = await Native.CreateDatabaseAsync("refusing");
        var database = target[(target.LastIndexOf('/') + 1)..];
        await Native.ExecuteAsync(database, "DO $$ BEGIN CREATE ROLE limited LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        var refused = await ZeroPgCli.RunAsync(["graduate", "--db", fixture.ObjectsDirectory, "--to", Native.Url(database, "limited")]);
        Assert.True(refused.ExitCode == 1, refused.All);
        Assert.Contains("42501", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("rolled back", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint:", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0L, await Native.ScalarAsync<long>(database, "SELECT count(*) FROM pg_class WHERE relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"));
        Assert.Equal(0L, await Native.ScalarAsync<long>(database, "SELECT count(*) FROM pg_namespace WHERE nspname = 'shop'"));

        // A target that is not empty is refused before anything is written.
        await Native.ExecuteAsync(database, "CREATE TABLE public.existing (id int)");
        var notEmpty = await ZeroPgCli.RunAsync(["graduate", "--db", fixture.ObjectsDirectory, "--to", target]);
        Assert.True(notEmpty.ExitCode == 1, notEmpty.All);
        Assert.Contains("not empty", notEmpty.Stderr, StringComparison.Ordinal);
        Assert.Contains("public.existing", notEmpty.Stderr, StringComparison.Ordinal);
    }
}
