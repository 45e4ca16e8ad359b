using System.Diagnostics;
using System.Text.Json;
using ZeroPg.Compatibility;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Compatibility;

/// <summary>`zeropg check` on real apps' migration folders (Corpus/SOURCES.md) lists exactly the extensions they need.</summary>
public sealed class CompatibilityCorpusTests
{
    private static string Corpus(string name) => Path.Combine(RepoPaths.Root, "tests", "ZeroPg.Tests", "Compatibility", "Corpus", name);

    [Theory]
    [InlineData("rallly", "citext:bundled,pgcrypto:bundled", true)]
    [InlineData("documenso", "pg_trgm:bundled,pgcrypto:bundled", true)]
    [InlineData("nostream", "btree_gin:bundled,uuid-ossp:bundled", true)]
    [InlineData("umami", "pgcrypto:bundled", true)]
    [InlineData("geospatial-knex", "postgis:not available", false)]
    public void Real_apps_get_exactly_the_extensions_they_need(string app, string expected, bool canRun)
    {
        var report = ProjectScanner.Scan(Corpus(app));
        Assert.Equal(expected, string.Join(",", report.Extensions.Select(e => $"{e.Name}:{e.Status}")));
        Assert.Equal(canRun, report.CanRun);
        Assert.All(report.Extensions, e => Assert.NotEmpty(e.Evidence));
    }

    [Fact]
    public void Evidence_names_the_file_and_line_and_prisma_folders_are_found()
    {
        var report = ProjectScanner.Scan(Corpus("rallly"));
        var citext = report.Extensions.Single(e => e.Name == "citext");
        Assert.Contains(new Evidence("packages/database/prisma/migrations/20220414101318_remove_duplicate_emails/migration.sql", 39,
            "CREATE EXTENSION IF NOT EXISTS citext;"), citext.Evidence);
        Assert.Contains(citext.Evidence, e => e.File == "packages/database/prisma/models/user.prisma" && e.Text.Contains("@db.Citext"));
        var folder = Assert.Single(report.Migrations);
        Assert.Equal(("packages/database/prisma/migrations", "prisma", 145), (folder.Path, folder.Kind, folder.Migrations));
        Assert.Equal("zeropg serve --db ./zeropg-data --extensions auto --migrations packages/database/prisma/migrations", report.Command);
        Assert.Contains(report.Drivers, d => d.Name == "@prisma/client" && d.Evidence.File == "packages/database/package.json");
    }

    [Fact]
    public void Migrations_for_another_database_are_not_taken_for_postgres_ones()
    {
        var report = ProjectScanner.Scan(Corpus("umami"));
        Assert.Equal(["prisma/migrations"], report.Migrations.Select(m => m.Path));
        Assert.Equal("zeropg serve --db ./zeropg-data --extensions auto --migrations prisma/migrations", report.Command);
    }

    [Fact]
    public void Tells_sql_strings_in_code_migrations_and_other_tools_syntax_are_recognised()
    {
        using var project = new Engine.TempDirectory();
        Directory.CreateDirectory(project.Sub("db/migrate"));
        Directory.CreateDirectory(project.Sub("app/migrations"));
        Directory.CreateDirectory(project.Sub("prisma"));
        Directory.CreateDirectory(project.Sub("sql"));
        File.WriteAllText(project.Sub("db/migrate/20240101_enable.rb"), "class Enable < ActiveRecord::Migration[7.1]\n  def change\n    enable_extension \"hstore\"\n  end\nend\n");
        File.WriteAllText(project.Sub("app/migrations/0002_ext.py"), "from django.contrib.postgres.operations import TrigramExtension, CreateExtension\noperations = [TrigramExtension(), CreateExtension('unaccent')]\n");
        File.WriteAllText(project.Sub("prisma/schema.prisma"), "datasource db {\n  provider   = \"postgresql\"\n  extensions = [vector, uuid_ossp(map: \"uuid-ossp\", schema: \"public\")]\n}\n");
        File.WriteAllText(project.Sub("sql/0001_init.sql"), "-- CREATE EXTENSION timescaledb; (not used)\nCREATE TABLE t(id uuid DEFAULT gen_random_uuid(), secret bytea DEFAULT gen_random_bytes(16));\nCREATE INDEX CONCURRENTLY t_id ON t(id);\n");
        File.WriteAllText(project.Sub("go.mod"), "module example.com/app\n\nrequire (\n\tgithub.com/lib/pq v1.10.9\n\tgithub.com/jackc/pgx/v5 v5.5.0\n)\n");
        File.WriteAllText(project.Sub("package.json"), "{\"dependencies\": {\"@neondatabase/serverless\": \"^0.9.0\"}}");
        File.WriteAllText(project.Sub(".env"), "DATABASE_URL=postgres://u@db/app?sslmode=require\n");
        File.CreateSymbolicLink(project.Sub("sql/.env"), "/nonexistent/.env"); // a dangling link (Formbricks has one) is skipped

        var report = ProjectScanner.Scan(project.Path);
        Assert.Equal("hstore,pg_trgm,pgcrypto,unaccent,uuid-ossp,vector",
            string.Join(",", report.Extensions.Select(e => e.Name)));
        Assert.Equal(ExtensionStatus.Loadable, report.Extensions.Single(e => e.Name == "vector").Status);
        Assert.Equal("sslmode=disable", report.Drivers.Single(d => d.Name == "github.com/lib/pq").DsnParameter);
        Assert.False(report.Drivers.Single(d => d.Name == "@neondatabase/serverless").Supported);
        Assert.False(report.CanRun);
        Assert.Equal(["concurrently", "tls-required"], report.Warnings.Select(w => w.Code));
        Assert.Equal(new Evidence(".env", 1, "DATABASE_URL=postgres://u@db/app?sslmode=require"), report.Warnings[1].Evidence.Single());
        Assert.Contains(report.Migrations, m => m.Path == "sql" && m.Kind == "sql");
    }

    [Fact]
    public async Task The_cli_prints_the_json_shape_of_the_issue_and_exits_1_when_an_extension_is_missing()
    {
        var (code, output) = await RunCheckAsync(Corpus("geospatial-knex"), "--format", "json");
        Assert.Equal(1, code);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var postgis = root.GetProperty("extensions")[0];
        Assert.Equal("postgis", postgis.GetProperty("name").GetString());
        Assert.Equal("not available", postgis.GetProperty("status").GetString());
        Assert.Equal("src/database/migrations/20200927155751_create_postgis_extension.js", postgis.GetProperty("evidence")[0].GetProperty("file").GetString());
        Assert.Contains("native PostgreSQL", postgis.GetProperty("advice").GetString());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("drivers").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("warnings").ValueKind);
        Assert.StartsWith("zeropg serve", root.GetProperty("command").GetString());

        var (okCode, text) = await RunCheckAsync(Corpus("documenso"));
        Assert.Equal(0, okCode);
        Assert.Contains("pg_trgm          bundled", text);
        Assert.Equal(2, (await RunCheckAsync(Path.Combine(Path.GetTempPath(), "no such folder " + Guid.NewGuid()))).Code);
    }

    private static async Task<(int Code, string Output)> RunCheckAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll"));
        start.ArgumentList.Add("check");
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output);
    }
}
