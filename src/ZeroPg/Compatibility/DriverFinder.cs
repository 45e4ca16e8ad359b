using System.Text.Json;
using System.Text.RegularExpressions;

namespace ZeroPg.Compatibility;

/// <summary>
/// Postgres drivers and ORMs named in a project's manifests (package.json, *.csproj, go.mod, Cargo.toml,
/// requirements*.txt / pyproject.toml / Pipfile, Gemfile, composer.json), with what ZeroPg knows about them.
/// </summary>
internal static partial class DriverFinder
{
    private sealed record Known(string Ecosystem, string Name, string[] Notes, string? DsnParameter = null, bool Supported = true);

    private const string NoTls = "ZeroPg has no TLS: use sslmode=disable or prefer (the default of most drivers); sslmode=require fails.";
    private const string NamedStatements = "Named server-side prepared statements work: ZeroPg maps each connection's statement names onto the shared engine.";

    private static readonly Known[] Drivers =
    [
        new("npm", "pg", ["node-postgres: tested in ZeroPg's CI (unnamed and named statements, COPY, LISTEN).", NoTls]),
        new("npm", "postgres", ["postgres.js: prepared statements per connection work (per-client statement names).", NoTls]),
        new("npm", "@prisma/client", ["Prisma Client (query engine or driver adapter) works at run time.",
            "prisma migrate dev needs a shadow database (CREATE DATABASE): not available yet; apply with `prisma migrate deploy` or `zeropg serve --migrations`."]),
        new("npm", "prisma", ["prisma migrate deploy works; `zeropg serve --migrations` fills _prisma_migrations the same way.",
            "prisma migrate dev needs a shadow database (CREATE DATABASE): not available yet."]),
        new("npm", "@prisma/adapter-pg", ["Prisma's node-postgres adapter: works like pg."]),
        new("npm", "drizzle-orm", ["drizzle-orm over pg or postgres.js works; drizzle-kit migrate/push work."]),
        new("npm", "drizzle-kit", ["drizzle-kit migrate and push work; `zeropg serve --migrations` fills drizzle.__drizzle_migrations the same way."]),
        new("npm", "knex", ["knex migrations (locked through its knex_migrations_lock table) work, CREATE EXTENSION inside them too."]),
        new("npm", "node-pg-migrate", ["node-pg-migrate takes a session advisory lock while it migrates: per-client on ZeroPg, it works."]),
        new("npm", "typeorm", ["TypeORM migrations run in one transaction; CREATE EXTENSION inside it works."]),
        new("npm", "sequelize", ["Sequelize over pg works like pg."]),
        new("npm", "kysely", ["Kysely over pg works like pg."]),
        new("npm", "pg-promise", ["pg-promise is built on pg."]),
        new("npm", "slonik", ["slonik is built on pg."]),
        new("npm", "@neondatabase/serverless", ["Neon's serverless driver speaks WebSockets/HTTP to Neon's proxy, not the Postgres wire protocol: use pg instead."], Supported: false),
        new("npm", "@vercel/postgres", ["@vercel/postgres is Neon's serverless driver (WebSockets/HTTP): use pg instead."], Supported: false),
        new("npm", "@electric-sql/client", ["Electric needs logical replication, which PGlite's single-user engine does not provide."]),
        new("npm", "@rocicorp/zero", ["zero-cache needs logical replication, which PGlite's single-user engine does not provide."]),
        new("nuget", "Npgsql", ["Npgsql: ZeroPg's own tests use it (pooling, prepared statements, COPY, cancel).", NoTls]),
        new("nuget", "Npgsql.EntityFrameworkCore.PostgreSQL", ["EF Core: migrations apply with `dotnet ef database update` or Database.MigrateAsync(); HasPostgresExtension works."]),
        new("nuget", "Dapper", ["Dapper runs on Npgsql."]),
        new("nuget", "linq2db.PostgreSQL", ["linq2db runs on Npgsql."]),
        new("go", "github.com/jackc/pgx/v5", ["pgx: its cached named statements work (per-client statement names on ZeroPg); no default_query_exec_mode change needed.", NoTls]),
        new("go", "github.com/jackc/pgx/v4", ["pgx v4: named statements work (per-client statement names).", NoTls]),
        new("go", "github.com/lib/pq", ["lib/pq: sslmode defaults to require; add sslmode=disable."], DsnParameter: "sslmode=disable"),
        new("go", "gorm.io/driver/postgres", ["GORM's Postgres driver (pgx): AutoMigrate works."]),
        new("go", "github.com/golang-migrate/migrate/v4", ["golang-migrate holds pg_advisory_lock on one connection while it migrates; keep a pool of 2 or more."]),
        new("cargo", "sqlx", ["sqlx: its named prepared statements work (per-client statement names).", NoTls]),
        new("cargo", "tokio-postgres", ["tokio-postgres: named statements work.", NoTls]),
        new("cargo", "postgres", ["rust-postgres: named statements work.", NoTls]),
        new("cargo", "diesel", ["Diesel: named statements work (per-client statement names)."]),
        new("python", "psycopg", ["psycopg 3: works; its automatic prepare after 5 runs uses named statements, which ZeroPg maps per connection."]),
        new("python", "psycopg2", ["psycopg2: works.", NoTls]),
        new("python", "psycopg2-binary", ["psycopg2: works.", NoTls]),
        new("python", "asyncpg", ["asyncpg: its statement cache uses named statements, mapped per connection on ZeroPg."]),
        new("python", "django", ["Django: migrate works; its CreateExtension operations run CREATE EXTENSION inside the migration's transaction, which works."]),
        new("python", "alembic", ["Alembic: upgrade/downgrade work (transactional DDL)."]),
        new("python", "sqlalchemy", ["SQLAlchemy over psycopg/psycopg2/asyncpg works."]),
        new("ruby", "pg", ["ruby-pg (libpq): works.", NoTls]),
        new("ruby", "activerecord", ["Rails migrations: enable_extension runs CREATE EXTENSION inside the migration's transaction, which works."]),
        new("ruby", "rails", ["Rails migrations: enable_extension works."]),
        new("php", "ext-pgsql", ["PHP pgsql (libpq): works.", NoTls]),
        new("php", "ext-pdo_pgsql", ["PDO pgsql (libpq): works.", NoTls]),
        new("php", "doctrine/dbal", ["Doctrine DBAL over pdo_pgsql works."]),
    ];

    public static IEnumerable<DriverFinding> Find(string relativePath, string text)
    {
        var name = Path.GetFileName(relativePath);
        var dependencies = name switch
        {
            "package.json" => PackageJson(text, "npm", "dependencies", "devDependencies"),
            "composer.json" => PackageJson(text, "php", "require", "require-dev"),
            "go.mod" => Lines(text, GoRequire(), "go"),
            "Cargo.toml" => Lines(text, CargoDependency(), "cargo"),
            "Gemfile" => Lines(text, GemLine(), "ruby"),
            "Pipfile" or "pyproject.toml" => Lines(text, PythonQuoted(), "python").Concat(Lines(text, PipfileLine(), "python")),
            _ when name.StartsWith("requirements", StringComparison.Ordinal) && name.EndsWith(".txt", StringComparison.Ordinal) => Lines(text, RequirementLine(), "python"),
            _ when name.EndsWith(".csproj", StringComparison.Ordinal) || name == "Directory.Packages.props" => Lines(text, PackageReference(), "nuget"),
            _ => [],
        };
        foreach (var (ecosystem, dependency, version, line) in dependencies)
        {
            var known = Drivers.FirstOrDefault(d => d.Ecosystem == ecosystem && string.Equals(d.Name, dependency, StringComparison.OrdinalIgnoreCase));
            if (known is null)
                continue;
            yield return new DriverFinding(known.Name, ecosystem, version, new Evidence(relativePath, line, ExtensionFinder.Snippet(text, IndexOfLine(text, line))), known.Notes)
            {
                DsnParameter = known.DsnParameter,
                Supported = known.Supported,
            };
        }
    }

    private static IEnumerable<(string, string, string?, int)> PackageJson(string text, string ecosystem, params string[] sections)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException)
        {
            yield break;
        }
        using (document)
        {
            foreach (var section in sections)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty(section, out var dependencies) || dependencies.ValueKind != JsonValueKind.Object)
                    continue;
                foreach (var dependency in dependencies.EnumerateObject())
                {
                    var at = text.IndexOf($"\"{dependency.Name}\"", StringComparison.Ordinal);
                    yield return (ecosystem, dependency.Name, dependency.Value.ValueKind == JsonValueKind.String ? dependency.Value.GetString() : null,
                        at < 0 ? 1 : ExtensionFinder.LineOf(text, at));
                }
            }
        }
    }

    private static IEnumerable<(string, string, string?, int)> Lines(string text, Regex pattern, string ecosystem)
    {
        foreach (Match match in pattern.Matches(text))
            yield return (ecosystem, match.Groups["name"].Value, match.Groups["version"].Success ? match.Groups["version"].Value : null, ExtensionFinder.LineOf(text, match.Index));
    }

    private static int IndexOfLine(string text, int line)
    {
        var index = 0;
        for (var current = 1; current < line && index >= 0; current++)
            index = text.IndexOf('\n', index) + 1;
        return Math.Max(0, index);
    }

    [GeneratedRegex("""<PackageReference\s+Include="(?<name>[^"]+)"(?:\s+Version="(?<version>[^"]+)")?""")]
    private static partial Regex PackageReference();

    [GeneratedRegex(@"^\s*(?:require\s+)?(?<name>[a-z0-9.\-]+\.[a-z]+/[^\s]+)\s+(?<version>v[^\s]+)", RegexOptions.Multiline)]
    private static partial Regex GoRequire();

    [GeneratedRegex("""^\s*(?<name>[A-Za-z0-9_-]+)\s*=\s*(?:"(?<version>[^"]+)"|\{[^}\n]*?version\s*=\s*"(?<version>[^"]+)")?""", RegexOptions.Multiline)]
    private static partial Regex CargoDependency();

    [GeneratedRegex("""^\s*gem\s+['"](?<name>[^'"]+)['"](?:\s*,\s*['"](?<version>[^'"]+)['"])?""", RegexOptions.Multiline)]
    private static partial Regex GemLine();

    [GeneratedRegex(@"^\s*(?<name>[A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?<version>[<>=!~]=?\s*[^\s;#]+)?", RegexOptions.Multiline)]
    private static partial Regex RequirementLine();

    [GeneratedRegex("""["'](?<name>[A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?<version>[<>=!~]=?[^"']*)?["']""")]
    private static partial Regex PythonQuoted();

    [GeneratedRegex("""^\s*(?<name>[A-Za-z0-9_.\-]+)\s*=\s*["'](?<version>[^"']*)["']""", RegexOptions.Multiline)]
    private static partial Regex PipfileLine();
}
