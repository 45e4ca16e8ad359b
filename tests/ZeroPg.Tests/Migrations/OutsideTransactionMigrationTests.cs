using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Migrations;

/// <summary>
/// `zeropg check` and `serve --migrations` on the same folder say and do the same thing: a migration holding a statement
/// Postgres refuses in a transaction block (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE then its use) runs
/// outside one, as Flyway runs it; a Prisma file that mixes one with other statements fails with Prisma too, so check says so.
/// </summary>
public sealed class OutsideTransactionMigrationTests
{
    [Fact]
    public async Task A_create_index_concurrently_migration_check_says_it_runs_and_serve_applies_it_and_the_index_exists()
    {
        using var directory = new TempDirectory();
        var migrations = directory.Sub("migrations");
        Directory.CreateDirectory(migrations);
        await File.WriteAllTextAsync(Path.Combine(migrations, "V1__orders.sql"), """
            CREATE TYPE order_state AS ENUM ('new', 'paid');
            CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, state order_state NOT NULL DEFAULT 'new');
            INSERT INTO orders (item) VALUES ('a'), ('b');
            """);
        await File.WriteAllTextAsync(Path.Combine(migrations, "V2__index_and_state.sql"), """
            -- written for Flyway: none of these runs in a transaction block
            CREATE INDEX CONCURRENTLY orders_item ON orders (item);
            ALTER TYPE order_state ADD VALUE 'shipped';
            UPDATE orders SET state = 'shipped' WHERE item = 'a';
            VACUUM orders;
            """);

        var check = await CliRun.RunAsync("check", migrations);
        Assert.True(check.Code == 0, check.Stdout + check.Stderr);
        Assert.StartsWith("Runs on ZeroPg.", check.Stdout);
        Assert.DoesNotContain("FAILS", check.Stdout);
        var command = check.Stdout.Split('\n').SkipWhile(l => l != "Run it with:").Skip(1).First().Trim();
        Assert.StartsWith("zeropg serve --db ./zeropg-data --migrations ", command);

        // The start command check printed, as a user runs it (here with a port of its own).
        await using (var cli = await CliProcess.StartReadyAsync("--db", directory.Sub("data"), "--port", "0", "--migrations", migrations))
        {
            await Eventually.WaitUntilAsync(() => cli.Stderr.Contains("migrations: 2 applied, 0 already applied (of 2)"), "the migrations' summary", TimeSpan.FromSeconds(5));
            await using var connection = new NpgsqlConnection(cli.ConnectionString);
            await connection.OpenAsync();
            Assert.Equal(true, await connection.ScalarAsync("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'orders_item'"));
            Assert.Equal("shipped", await connection.ScalarAsync("SELECT state::text FROM orders WHERE item = 'a'"));
            Assert.Equal(2L, await connection.ScalarAsync("SELECT count(*) FROM zeropg_migrations"));
        }
        await using (var again = await CliProcess.StartReadyAsync("--db", directory.Sub("data"), "--port", "0", "--migrations", migrations))
            await Eventually.WaitUntilAsync(() => again.Stderr.Contains("migrations: 0 applied, 2 already applied (of 2)"), "the second start's summary", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_prisma_migration_that_mixes_concurrently_with_other_statements_check_says_it_fails_and_serve_fails_with_25001()
    {
        using var directory = new TempDirectory();
        var migrations = directory.Sub("migrations");
        Directory.CreateDirectory(Path.Combine(migrations, "20260101000000_init"));
        await File.WriteAllTextAsync(Path.Combine(migrations, "20260101000000_init", "migration.sql"), """
            CREATE TABLE "Item" ("id" SERIAL PRIMARY KEY, "name" TEXT NOT NULL);
            CREATE INDEX CONCURRENTLY "Item_name_idx" ON "Item"("name");
            """);

        var check = await CliRun.RunAsync("check", migrations);
        Assert.True(check.Code == 1, check.Stdout + check.Stderr);
        Assert.StartsWith("Does NOT run on ZeroPg as it is", check.Stdout);
        Assert.Contains("FAILS 20260101000000_init/migration.sql:2: CREATE INDEX CONCURRENTLY", check.Stdout);
        Assert.Contains("Prisma sends a migration file as one query", check.Stdout);

        var serve = await CliRun.RunAsync("serve", "--db", directory.Sub("data"), "--port", "0", "--migrations", migrations);
        Assert.NotEqual(0, serve.Code);
        Assert.Contains("25001", serve.Stderr);
    }
}
