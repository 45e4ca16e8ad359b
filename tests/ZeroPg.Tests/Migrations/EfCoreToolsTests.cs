using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Migrations;

/// <summary>
/// EF Core's command-line tools against `zeropg serve` (the CLI as a separate process, as a developer runs it):
/// `dotnet ef database update` (dotnet-ef pinned in tests/migrations/efcore/.config/dotnet-tools.json), and a
/// migrations bundle (`dotnet ef migrations bundle`, the self-contained migrator a deployment runs) applied to
/// another database of the same server (the Slow run).
/// </summary>
[TakesAbout(60)]
public sealed class EfCoreToolsTests
{
    [Fact]
    // In the default run although it builds tests/migrations/efcore (~30 s): issue 31 wants it in CI.
    public async Task Dotnet_ef_database_update_against_zeropg_serve()
    {
        await using var serve = await CliProcess.StartReadyAsync("-p", "0");
        var connectionString = serve.ConnectionString;
        await BuildAsync();
        var update = await Ef(connectionString, "database", "update", "--no-build");
        Assert.Contains("Applying migration '20240101000000_Accounts'.", update);
        Assert.Contains("No migrations were applied. The database is already up to date.", await Ef(connectionString, "database", "update", "--no-build"));
        await AssertMigratedAsync(connectionString);
    }

    [Fact]
    [Trait("Category", "Slow")] // a self-contained bundle is a publish of its own (~50 s of CPU); the update above runs the same migration
    public async Task A_migrations_bundle_applies_to_a_database_of_zeropg_serve()
    {
        await using var serve = await CliProcess.StartReadyAsync("-p", "0");
        var connectionString = serve.ConnectionString;
        var bundleDirectory = Directory.CreateTempSubdirectory("zeropg-efbundle-").FullName;
        try
        {
            await BuildAsync();
            var bundle = Path.Combine(bundleDirectory, "efbundle");
            await Ef(connectionString, "migrations", "bundle", "--output", bundle, "--force");
            await using (var admin = new NpgsqlConnection(connectionString))
            {
                await admin.OpenAsync();
                await admin.TextAsync("create database bundled");
            }
            var bundled = connectionString + ";Database=bundled";
            var (code, output) = await ToolRun.RunAsync("", "efcore", bundle, ["--connection", bundled]);
            Assert.True(code == 0, output);
            Assert.Contains("Applying migration '20240101000000_Accounts'.", output);
            await AssertMigratedAsync(bundled);
        }
        finally
        {
            Directory.Delete(bundleDirectory, recursive: true);
        }
    }

    private static async Task BuildAsync()
    {
        await ToolRun.RunOkAsync("", "efcore", "dotnet", "tool", "restore");
        await ToolRun.RunOkAsync("", "efcore", "dotnet", "build", "-v", "q", "-nologo");
    }

    /// <summary>The migration's table takes a row; citext (the extension the migration creates) compares ignoring case.</summary>
    private static async Task AssertMigratedAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await connection.TextAsync("insert into \"Accounts\" (\"Email\") values ('Ann@Example.com')");
        Assert.Equal("1", await connection.TextAsync("select count(*)::text from \"Accounts\" where \"Email\" = 'ann@example.com'"));
        Assert.Equal("20240101000000_Accounts", await connection.TextAsync("select string_agg(\"MigrationId\", ',') from \"__EFMigrationsHistory\""));
    }

    private static async Task<string> Ef(string connectionString, params string[] arguments)
    {
        var (code, output) = await ToolRun.RunAsync("", "efcore", "dotnet", ["ef", .. arguments], ("ZEROPG_CONNECTION_STRING", connectionString));
        Assert.True(code == 0, $"dotnet ef {string.Join(' ', arguments)} exited {code}: {output}");
        return output;
    }
}
