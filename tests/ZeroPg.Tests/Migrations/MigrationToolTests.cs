using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Migrations;

/// <summary>
/// Migration tools against ZeroPg as against Postgres: each creates an extension inside its migration
/// transaction (8 of 9 tools failed their first migration when ZeroPg restarted the engine for it), applies,
/// applies again (a no-op) and rolls back where the tool can. Versions: tests/migrations/package-lock.json,
/// Debian's python3-django / python3-alembic, EF Core from Directory.Packages.props.
/// </summary>
public sealed class MigrationToolTests
{
    private const string Node = "node";
    private const string Python = "/usr/bin/python3";

    private static async Task<(ZeroPgServer Server, string Url, NpgsqlConnection Connection)> StartAsync(Action<ZeroPgOptions>? configure = null)
    {
        var options = new ZeroPgOptions();
        configure?.Invoke(options);
        var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        return (server, server.Url, connection);
    }

    private static async Task AssertAccountsWorkAsync(NpgsqlConnection connection, string table = "accounts", string column = "email")
    {
        await connection.ExecAsync($"INSERT INTO \"{table}\" (\"{column}\") VALUES ('Ann@Example.com')");
        Assert.Equal(1L, await connection.ScalarAsync($"SELECT count(*) FROM \"{table}\" WHERE \"{column}\" = 'ann@EXAMPLE.com'"));
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string table)
        => (bool)(await connection.ScalarAsync($"SELECT to_regclass('{table}') IS NOT NULL"))!;

    [Fact]
    public async Task Knex_migrate_latest_twice_and_rollback()
    {
        var (server, url, connection) = await StartAsync();
        await using var _ = server;
        await using var __ = connection;
        Assert.Contains("\"batch\":1,\"names\":[\"20240101000000_accounts.js\",\"20240102000000_trgm.js\"]", await ToolRun.RunOkAsync(url, "knex", Node, "run.js", "up"));
        await AssertAccountsWorkAsync(connection);
        Assert.Contains("\"names\":[]", await ToolRun.RunOkAsync(url, "knex", Node, "run.js", "up"));
        Assert.Contains("\"names\":[\"20240102000000_trgm.js\",\"20240101000000_accounts.js\"]", await ToolRun.RunOkAsync(url, "knex", Node, "run.js", "down"));
        Assert.False(await ExistsAsync(connection, "accounts"));
    }

    [Fact]
    public async Task Node_pg_migrate_up_twice_and_down()
    {
        var (server, url, connection) = await StartAsync();
        await using var _ = server;
        await using var __ = connection;
        string[] up = ["node_modules/node-pg-migrate/bin/node-pg-migrate.js", "up", "-m", "node-pg-migrate/migrations"];
        Assert.Contains("Migrations complete!", await ToolRun.RunOkAsync(url, "", Node, up));
        await AssertAccountsWorkAsync(connection);
        Assert.Contains("No migrations to run!", await ToolRun.RunOkAsync(url, "", Node, up));
        await ToolRun.RunOkAsync(url, "", Node, "node_modules/node-pg-migrate/bin/node-pg-migrate.js", "down", "-m", "node-pg-migrate/migrations");
        Assert.False(await ExistsAsync(connection, "accounts"));
        Assert.Equal(0L, await connection.ScalarAsync("SELECT count(*) FROM pg_extension WHERE extname = 'citext'"));
    }

    [Fact]
    public async Task TypeOrm_run_migrations_twice_and_revert()
    {
        var (server, url, connection) = await StartAsync();
        await using var _ = server;
        await using var __ = connection;
        Assert.Contains("[\"Accounts1704067200000\"]", await ToolRun.RunOkAsync(url, "typeorm", Node, "run.js", "up"));
        await AssertAccountsWorkAsync(connection);
        Assert.Contains("[]", await ToolRun.RunOkAsync(url, "typeorm", Node, "run.js", "up"));
        await ToolRun.RunOkAsync(url, "typeorm", Node, "run.js", "down");
        Assert.False(await ExistsAsync(connection, "accounts"));
    }

    [Fact]
    public async Task Drizzle_kit_migrate_twice_and_finds_nothing_to_do_after_zeropg_applied_its_folder()
    {
        var (server, url, connection) = await StartAsync();
        await using (server)
        await using (connection)
        {
            await ToolRun.RunOkAsync(url, "drizzle", Node, "../node_modules/drizzle-kit/bin.cjs", "migrate");
            await AssertAccountsWorkAsync(connection);
            await ToolRun.RunOkAsync(url, "drizzle", Node, "../node_modules/drizzle-kit/bin.cjs", "migrate");
            Assert.Equal(2L, await connection.ScalarAsync("SELECT count(*) FROM drizzle.__drizzle_migrations"));
        }

        // ZeroPg's --migrations writes drizzle's ledger as drizzle-orm's migrator does: drizzle-kit then has nothing to do.
        var folder = Path.Combine(ToolRun.ToolsDirectory, "drizzle", "migrations");
        var (applied, appliedUrl, appliedConnection) = await StartAsync(o => o.MigrationFolders = [folder]);
        await using (applied)
        await using (appliedConnection)
        {
            var ledger = await appliedConnection.ScalarAsync("SELECT string_agg(hash || ':' || created_at, ',' ORDER BY id) FROM drizzle.__drizzle_migrations");
            await ToolRun.RunOkAsync(appliedUrl, "drizzle", Node, "../node_modules/drizzle-kit/bin.cjs", "migrate");
            Assert.Equal(ledger, await appliedConnection.ScalarAsync("SELECT string_agg(hash || ':' || created_at, ',' ORDER BY id) FROM drizzle.__drizzle_migrations"));
            Assert.Equal(2L, await appliedConnection.ScalarAsync("SELECT count(*) FROM drizzle.__drizzle_migrations"));
        }
    }

    [Fact]
    public async Task Drizzle_kit_push_twice()
    {
        var (server, url, connection) = await StartAsync();
        await using var _ = server;
        await using var __ = connection;
        await ToolRun.RunOkAsync(url, "drizzle", Node, "../node_modules/drizzle-kit/bin.cjs", "push", "--force");
        Assert.True(await ExistsAsync(connection, "accounts") && await ExistsAsync(connection, "sessions"));
        Assert.Contains("No changes detected", await ToolRun.RunOkAsync(url, "drizzle", Node, "../node_modules/drizzle-kit/bin.cjs", "push", "--force"));
    }

    private static readonly string PrismaCli = "../node_modules/prisma/build/index.js";

    [Fact]
    [Trait("Category", "Slow")] // the Prisma CLI takes 5-12 s per call here, most of it its own start-up
    public async Task Prisma_migrate_deploy_twice_and_status()
    {
        var (server, url, connection) = await StartAsync();
        await using var _ = server;
        await using var __ = connection;
        Assert.Contains("All migrations have been successfully applied.", await ToolRun.RunOkAsync(url, "prisma", Node, PrismaCli, "migrate", "deploy"));
        await AssertAccountsWorkAsync(connection, "Account");
        Assert.Contains("No pending migrations to apply.", await ToolRun.RunOkAsync(url, "prisma", Node, PrismaCli, "migrate", "deploy"));
        Assert.Contains("Database schema is up to date!", await ToolRun.RunOkAsync(url, "prisma", Node, PrismaCli, "migrate", "status"));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Prismas_own_migrate_deploy_finds_nothing_to_do_after_zeropg_applied_a_real_history()
    {
        var (server, url, connection) = await StartAsync(o => o.MigrationFolders = [StartupMigrationTests.Rallly]);
        await using var _ = server;
        await using var __ = connection;
        var before = await connection.ScalarAsync("SELECT string_agg(id || checksum || finished_at, ',' ORDER BY migration_name) FROM _prisma_migrations");
        var (code, output) = await ToolRun.RunAsync(url, "prisma", Node, [PrismaCli, "migrate", "deploy"], ("PRISMA_MIGRATIONS", StartupMigrationTests.Rallly));
        Assert.True(code == 0, output);
        Assert.Contains("145 migrations found", output);
        Assert.Contains("No pending migrations to apply.", output);
        Assert.Equal(before, await connection.ScalarAsync("SELECT string_agg(id || checksum || finished_at, ',' ORDER BY migration_name) FROM _prisma_migrations"));
    }

    [Fact]
    public async Task Django_migrate_twice_and_back_to_zero()
    {
        var (server, url, connection) = await StartAsync();
        await using var _ = server;
        await using var __ = connection;
        Assert.Contains("Applying accounts.0001_initial... OK", await ToolRun.RunOkAsync(url, "django", Python, "manage.py", "migrate", "accounts"));
        await AssertAccountsWorkAsync(connection, "accounts_account");
        Assert.Contains("No migrations to apply.", await ToolRun.RunOkAsync(url, "django", Python, "manage.py", "migrate", "accounts"));
        Assert.Contains("Unapplying accounts.0001_initial... OK", await ToolRun.RunOkAsync(url, "django", Python, "manage.py", "migrate", "accounts", "zero"));
        Assert.False(await ExistsAsync(connection, "accounts_account"));
    }

    [Fact]
    public async Task Alembic_upgrade_twice_and_downgrade()
    {
        var (server, url, connection) = await StartAsync();
        await using var _ = server;
        await using var __ = connection;
        await ToolRun.RunOkAsync(url, "alembic", Python, "-m", "alembic", "-c", "alembic.ini", "upgrade", "head");
        Assert.Equal("0002", await connection.ScalarAsync("SELECT version_num FROM alembic_version"));
        await AssertAccountsWorkAsync(connection);
        await connection.ExecAsync("UPDATE accounts SET tags = 'a=>1'");
        await ToolRun.RunOkAsync(url, "alembic", Python, "-m", "alembic", "-c", "alembic.ini", "upgrade", "head");
        Assert.Equal(1L, await connection.ScalarAsync("SELECT count(*) FROM accounts WHERE tags -> 'a' = '1'"));
        await ToolRun.RunOkAsync(url, "alembic", Python, "-m", "alembic", "-c", "alembic.ini", "downgrade", "base");
        Assert.False(await ExistsAsync(connection, "accounts"));
        Assert.Equal(0L, await connection.ScalarAsync("SELECT count(*) FROM alembic_version"));
    }

    [Fact]
    public async Task Ef_core_migrate_twice_and_back_to_zero()
    {
        var (server, _, connection) = await StartAsync();
        await using var __ = server;
        await using var ___ = connection;
        var options = new DbContextOptionsBuilder<AccountsContext>().UseNpgsql(server.GetConnectionString() + ";Pooling=false").Options;
        await using (var context = new AccountsContext(options))
        {
            await context.Database.MigrateAsync();
            Assert.Equal(["20240101000000_Accounts"], await context.Database.GetAppliedMigrationsAsync());
            await context.Database.MigrateAsync();
            Assert.Empty(await context.Database.GetPendingMigrationsAsync());
        }
        await AssertAccountsWorkAsync(connection, "Accounts", "Email");
        await using (var context = new AccountsContext(options))
            await context.GetService<IMigrator>().MigrateAsync("0");
        Assert.False(await ExistsAsync(connection, "\"Accounts\""));
    }

    [Fact]
    [Trait("Category", "Slow")] // builds tests/migrations/efcore (~15 s)
    public async Task Dotnet_ef_database_update_twice_and_back_to_zero()
    {
        var (server, _, connection) = await StartAsync();
        await using var __ = server;
        await using var ___ = connection;
        var environment = ("ZEROPG_CONNECTION_STRING", server.GetConnectionString() + ";Pooling=false");
        await ToolRun.RunOkAsync("", "efcore", "dotnet", "tool", "restore");
        await ToolRun.RunOkAsync("", "efcore", "dotnet", "build", "-v", "q", "-nologo");
        async Task<string> Ef(params string[] arguments)
        {
            var (code, output) = await ToolRun.RunAsync("", "efcore", "dotnet", ["ef", .. arguments, "--no-build"], environment);
            Assert.True(code == 0, output);
            return output;
        }
        Assert.Contains("Applying migration '20240101000000_Accounts'.", await Ef("database", "update"));
        await AssertAccountsWorkAsync(connection, "Accounts", "Email");
        Assert.Contains("No migrations were applied. The database is already up to date.", await Ef("database", "update"));
        Assert.Contains("Reverting migration '20240101000000_Accounts'.", await Ef("database", "update", "0"));
        Assert.False(await ExistsAsync(connection, "\"Accounts\""));
    }

    public sealed class Account
    {
        public int Id { get; set; }
        public string Email { get; set; } = "";
    }

    public sealed class AccountsContext(DbContextOptions<AccountsContext> options) : DbContext(options)
    {
        public DbSet<Account> Accounts => Set<Account>();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.HasPostgresExtension("citext");
            modelBuilder.Entity<Account>().Property(a => a.Email).HasColumnType("citext");
        }
    }

    /// <summary>What `dotnet ef migrations add Accounts` generates for the model above (written out: the EF design-time tools are not used here).</summary>
    [DbContext(typeof(AccountsContext))]
    [Migration("20240101000000_Accounts")]
    public sealed class AccountsMigration : Migration
    {
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase().Annotation("Npgsql:PostgresExtension:citext", ",,");
            migrationBuilder.CreateTable(
                name: "Accounts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", Npgsql.EntityFrameworkCore.PostgreSQL.Metadata.NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Email = table.Column<string>(type: "citext", nullable: false),
                },
                constraints: table => table.PrimaryKey("PK_Accounts", x => x.Id));
            migrationBuilder.CreateIndex(name: "IX_Accounts_Email", table: "Accounts", column: "Email", unique: true);
        }

        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(name: "Accounts");
            migrationBuilder.AlterDatabase().OldAnnotation("Npgsql:PostgresExtension:citext", ",,");
        }
    }
}
