using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Migrations;

/// <summary>
/// EF Core's command-line tools against `zeropg serve` (the CLI as a separate process, as a developer runs it):
/// `dotnet ef database update` (dotnet-ef pinned in tests/migrations/efcore/.config/dotnet-tools.json), and a
/// migrations bundle (`dotnet ef migrations bundle`, the self-contained migrator a deployment runs) applied to
/// another database of the same server.
/// </summary>
[TakesAbout(130)]
public sealed class EfCoreToolsTests
{
    [Fact]
    // In the default run although it builds tests/migrations/efcore and a bundle (~50 s): issue 31 wants it in CI.
    public async Task Dotnet_ef_database_update_and_a_migrations_bundle_against_zeropg_serve()
    {
        await using var serve = await CliProcess.StartReadyAsync("-p", "0");
        var connectionString = serve.ConnectionString;
        var bundleDirectory = Directory.CreateTempSubdirectory("zeropg-efbundle-").FullName;
        try
        {
            await ToolRun.RunOkAsync("", "efcore", "dotnet", "tool", "restore");
            await ToolRun.RunOkAsync("", "efcore", "dotnet", "build", "-v", "q", "-nologo");
            var update = await Ef(connectionString, "database", "update", "--no-build");
            Assert.Contains("Applying migration '20240101000000_Accounts'.", update);
            Assert.Contains("No migrations were applied. The database is already up to date.", await Ef(connectionString, "database", "update", "--no-build"));

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

            foreach (var database in (string[])[connectionString, bundled])
            {
                await using var connection = new NpgsqlConnection(database);
                await connection.OpenAsync();
                await connection.TextAsync("insert into \"Accounts\" (\"Email\") values ('Ann@Example.com')");
                // citext (the extension the migration creates): the comparison ignores case.
                Assert.Equal("1", await connection.TextAsync("select count(*)::text from \"Accounts\" where \"Email\" = 'ann@example.com'"));
                Assert.Equal("20240101000000_Accounts", await connection.TextAsync("select string_agg(\"MigrationId\", ',') from \"__EFMigrationsHistory\""));
            }
        }
        finally
        {
            Directory.Delete(bundleDirectory, recursive: true);
        }
    }

    private static async Task<string> Ef(string connectionString, params string[] arguments)
    {
        var (code, output) = await ToolRun.RunAsync("", "efcore", "dotnet", ["ef", .. arguments], ("ZEROPG_CONNECTION_STRING", connectionString));
        Assert.True(code == 0, $"dotnet ef {string.Join(' ', arguments)} exited {code}: {output}");
        return output;
    }
}
