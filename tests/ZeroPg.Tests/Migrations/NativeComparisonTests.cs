using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Migrations;

/// <summary>
/// The reference: Prisma's own `migrate deploy` on native PostgreSQL 15. ZeroPg's --migrations must leave the
/// same ledger and the same schema, and `zeropg migrate --url` on native PostgreSQL a ledger Prisma accepts.
/// </summary>
public sealed class NativeComparisonTests
{
    private const string LedgerColumns =
        "SELECT string_agg(column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable || ' ' || coalesce(column_default, ''), E'\\n' ORDER BY ordinal_position) " +
        "FROM information_schema.columns WHERE table_name = '_prisma_migrations'";

    private const string LedgerRows =
        "SELECT string_agg(migration_name || ' ' || checksum || ' ' || applied_steps_count || ' ' || (finished_at IS NOT NULL) || ' ' || (logs IS NULL) || ' ' || (rolled_back_at IS NULL) || ' ' || length(id), E'\\n' ORDER BY migration_name) FROM _prisma_migrations";

    private const string Columns =
        "SELECT string_agg(table_name || '.' || column_name || ' ' || udt_name || ' ' || is_nullable || ' ' || coalesce(column_default, ''), E'\\n' ORDER BY table_name, column_name) " +
        "FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'";

    private const string Indexes = "SELECT string_agg(indexdef, E'\\n' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'";

    private const string Extensions = "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension";

    [Fact]
    [Trait("Category", "Slow")]
    public async Task ZeroPg_leaves_the_ledger_and_schema_prisma_migrate_deploy_leaves_on_native_postgres_15()
    {
        Assert.True(NativePostgres.IsInstalled, "Debian's postgresql-15 is needed (.ci/run installs it)");
        await using var native = await NativePostgres.StartAsync();
        await native.ExecuteAsync("postgres", "CREATE DATABASE by_prisma");
        await native.ExecuteAsync("postgres", "CREATE DATABASE by_zeropg");

        var rallly = StartupMigrationTests.Rallly;
        var deployed = await ToolRun.RunAsync(native.Url("by_prisma"), "prisma", "node", ["../node_modules/prisma/build/index.js", "migrate", "deploy"], ("PRISMA_MIGRATIONS", rallly));
        Assert.True(deployed.Code == 0, deployed.Output);

        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { MigrationFolders = [rallly], Extensions = [ZeroPgOptions.AutoExtensions] }, TestLogging.Factory);
        await using var reference = new NpgsqlConnection(native.ConnectionString("by_prisma"));
        await using var zeropg = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await reference.OpenAsync();
        await zeropg.OpenAsync();
        foreach (var query in new[] { LedgerColumns, LedgerRows, Columns, Indexes })
            Assert.Equal(await reference.TextAsync(query), await zeropg.TextAsync(query));
        Assert.Equal((await reference.TextAsync(Extensions)).Replace("plpgsql,", ""), (await zeropg.TextAsync(Extensions)).Replace("plpgsql,", ""));

        // `zeropg migrate --url` on native PostgreSQL 15: Prisma's own deploy then finds nothing to do.
        var (code, _, stderr) = await CliRun.RunAsync("migrate", rallly, "--url", native.Url("by_zeropg"));
        Assert.True(code == 0, stderr);
        var again = await ToolRun.RunAsync(native.Url("by_zeropg"), "prisma", "node", ["../node_modules/prisma/build/index.js", "migrate", "deploy"], ("PRISMA_MIGRATIONS", rallly));
        Assert.True(again.Code == 0, again.Output);
        Assert.Contains("No pending migrations to apply.", again.Output);
        await using var byZeroPg = new NpgsqlConnection(native.ConnectionString("by_zeropg"));
        await byZeroPg.OpenAsync();
        foreach (var query in new[] { LedgerColumns, LedgerRows, Columns, Indexes })
            Assert.Equal(await reference.TextAsync(query), await byZeroPg.TextAsync(query));
    }
}
