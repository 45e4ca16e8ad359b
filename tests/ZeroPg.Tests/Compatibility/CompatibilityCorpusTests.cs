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
    public void No_timeout_is_warned_about_since_all_of_them_fire_on_zeropg()
    {
        using var project = new Engine.TempDirectory();
        Directory.CreateDirectory(project.Sub("migrations"));
        File.WriteAllText(project.Sub("migrations/0001_settings.sql"), """
            SET statement_timeout = '5s';
            SET lock_timeout = '1s';
            SET idle_in_transaction_session_timeout = '1min';
            ALTER ROLE app SET idle_session_timeout = '10min';
            SET transaction_timeout = '30s';
            """);

        var report = ProjectScanner.Scan(project.Path);

        // statement_timeout and lock_timeout fire inside the engine (CancelTests), the idle timeouts and transaction_timeout
        // end the client's own connection (SessionTimeoutsTests, TransactionTimeoutTests).
        Assert.Empty(report.Warnings);
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

    /// <summary>
    /// Driver manifests of every ecosystem `zeropg check` reads, written the way projects write them (comments and blank
    /// lines before entries, central package versions, Cargo feature and table syntax, PEP 621 and Poetry, a composer
    /// "suggest" naming a package before "require-dev" does): the exact drivers found, each with its file and line.
    /// </summary>
    [Theory]
    [MemberData(nameof(ManifestCases))]
    public async Task Drivers_are_found_in_every_kind_of_manifest_with_their_file_and_line(string ecosystem, string[] files, string[] expected)
    {
        using var project = new Engine.TempDirectory();
        for (var i = 0; i < files.Length; i += 2)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(project.Sub(files[i]))!);
            File.WriteAllText(project.Sub(files[i]), files[i + 1]);
        }

        var (code, output) = await RunCheckAsync(project.Path, "--format", "json");

        Assert.True(code == 0, $"{ecosystem}: {output}");
        using var json = JsonDocument.Parse(output);
        var drivers = json.RootElement.GetProperty("drivers").EnumerateArray().Select(d =>
        {
            var evidence = d.GetProperty("evidence");
            var version = d.GetProperty("version").ValueKind == JsonValueKind.Null ? "-" : d.GetProperty("version").GetString();
            return $"{d.GetProperty("ecosystem").GetString()} {d.GetProperty("name").GetString()} {version} " +
                $"{evidence.GetProperty("file").GetString()}:{evidence.GetProperty("line").GetInt32()} {evidence.GetProperty("text").GetString()}";
        });
        Assert.Equal(expected, drivers);
        Assert.All(json.RootElement.GetProperty("drivers").EnumerateArray(), d => Assert.NotEmpty(d.GetProperty("notes").EnumerateArray()));
    }

    public static TheoryData<string, string[], string[]> ManifestCases() => new()
    {
        {
            "nuget",
            [
                "src/Api/Api.csproj", """
                <Project Sdk="Microsoft.NET.Sdk.Web">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                  </PropertyGroup>

                  <ItemGroup>
                    <PackageReference Include="Npgsql.EntityFrameworkCore.PostgreSQL" />
                    <PackageReference Include="Serilog.AspNetCore" />
                    <PackageReference
                        Include="Dapper"
                        Version="2.1.35" />
                    <PackageReference Include="linq2db.PostgreSQL">
                      <Version>5.4.1</Version>
                    </PackageReference>
                  </ItemGroup>
                </Project>
                """,
                "Directory.Packages.props", """
                <Project>
                  <PropertyGroup>
                    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageVersion Include="Npgsql" Version="9.0.3" />
                    <PackageVersion Include="Npgsql.EntityFrameworkCore.PostgreSQL" Version="9.0.4" />
                    <PackageVersion Include="Serilog.AspNetCore" Version="9.0.0" />
                  </ItemGroup>
                </Project>
                """,
            ],
            [
                "nuget Dapper 2.1.35 src/Api/Api.csproj:10 Include=\"Dapper\"",
                "nuget Npgsql 9.0.3 Directory.Packages.props:6 <PackageVersion Include=\"Npgsql\" Version=\"9.0.3\" />",
                "nuget Npgsql.EntityFrameworkCore.PostgreSQL 9.0.4 Directory.Packages.props:7 <PackageVersion Include=\"Npgsql.EntityFrameworkCore.PostgreSQL\" Version=\"9.0.4\" />",
                "nuget Npgsql.EntityFrameworkCore.PostgreSQL - src/Api/Api.csproj:7 <PackageReference Include=\"Npgsql.EntityFrameworkCore.PostgreSQL\" />",
                "nuget linq2db.PostgreSQL 5.4.1 src/Api/Api.csproj:12 <PackageReference Include=\"linq2db.PostgreSQL\">",
            ]
        },
        {
            "cargo",
            [
                "Cargo.toml", """
                [package]
                name = "postgres-api"
                version = "0.1.0"

                [features]
                postgres = ["sqlx/postgres"]

                [dependencies]
                # the database
                sqlx = { version = "0.8", features = ["runtime-tokio", "postgres"] }

                tokio-postgres = "0.7.12"
                pg = { package = "postgres", version = "0.19" }
                serde = "1"

                [dependencies.diesel]
                version = "2.2"
                features = ["postgres"]

                [[bin]]
                name = "postgres"
                """,
            ],
            [
                "cargo diesel 2.2 Cargo.toml:16 [dependencies.diesel]",
                "cargo postgres 0.19 Cargo.toml:13 pg = { package = \"postgres\", version = \"0.19\" }",
                "cargo sqlx 0.8 Cargo.toml:10 sqlx = { version = \"0.8\", features = [\"runtime-tokio\", \"postgres\"] }",
                "cargo tokio-postgres 0.7.12 Cargo.toml:12 tokio-postgres = \"0.7.12\"",
            ]
        },
        {
            "python",
            [
                "requirements.txt", """
                # web
                Django>=4.2,<5

                -r requirements-base.txt
                psycopg[binary]==3.2.3  # the driver
                SQLAlchemy>=2.0 ; python_version >= "3.8"
                """,
                "api/pyproject.toml", """
                [project]
                name = "api"
                version = "0.1.0"
                requires-python = ">=3.11"
                dependencies = [
                    "asyncpg>=0.29",
                    "alembic",
                ]

                [project.optional-dependencies]
                sync = ["psycopg2_binary >= 2.9"]
                """,
                "worker/pyproject.toml", """
                [tool.poetry]
                name = "worker"
                version = "0.1.0"

                [tool.poetry.dependencies]
                python = "^3.11"
                psycopg = { version = "^3.2", extras = ["binary"] }
                SQLAlchemy = "^2.0"
                """,
            ],
            [
                "python alembic - api/pyproject.toml:7 \"alembic\",",
                "python asyncpg >=0.29 api/pyproject.toml:6 \"asyncpg>=0.29\",",
                "python django >=4.2,<5 requirements.txt:2 Django>=4.2,<5",
                "python psycopg ==3.2.3 requirements.txt:5 psycopg[binary]==3.2.3  # the driver",
                "python psycopg ^3.2 worker/pyproject.toml:7 psycopg = { version = \"^3.2\", extras = [\"binary\"] }",
                "python psycopg2-binary >= 2.9 api/pyproject.toml:11 sync = [\"psycopg2_binary >= 2.9\"]",
                "python sqlalchemy >=2.0 requirements.txt:6 SQLAlchemy>=2.0 ; python_version >= \"3.8\"",
                "python sqlalchemy ^2.0 worker/pyproject.toml:8 SQLAlchemy = \"^2.0\"",
            ]
        },
        {
            "ruby",
            [
                "Gemfile", """
                source "https://rubygems.org"

                ruby "3.3.0"

                gem "rails", "~> 7.1.3"

                # Use postgresql as the database for Active Record
                gem 'pg', '~> 1.1'
                group :development do
                  gem "activerecord", require: false
                end
                """,
            ],
            [
                "ruby activerecord - Gemfile:10 gem \"activerecord\", require: false",
                "ruby pg ~> 1.1 Gemfile:8 gem 'pg', '~> 1.1'",
                "ruby rails ~> 7.1.3 Gemfile:5 gem \"rails\", \"~> 7.1.3\"",
            ]
        },
        {
            "php",
            [
                "composer.json", """
                {
                    "name": "acme/app",
                    "suggest": {
                        "ext-pgsql": "faster than PDO for COPY"
                    },
                    "require": {
                        "php": "^8.2",
                        "ext-pdo_pgsql": "*",
                        "doctrine/dbal": "^3.8"
                    },
                    "require-dev": {
                        "ext-pgsql": "*"
                    }
                }
                """,
            ],
            [
                "php doctrine/dbal ^3.8 composer.json:9 \"doctrine/dbal\": \"^3.8\"",
                "php ext-pdo_pgsql * composer.json:8 \"ext-pdo_pgsql\": \"*\",",
                "php ext-pgsql * composer.json:12 \"ext-pgsql\": \"*\"",
            ]
        },
    };

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
