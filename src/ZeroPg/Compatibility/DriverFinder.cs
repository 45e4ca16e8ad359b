using System.Text;
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

    // Every note is a claim a test runs against a server (tests/ZeroPg.Tests/Compatibility/CheckAdviceTests.cs names where each is
    // tested); TLS advice is the tls-required warning's, given where a project's settings ask for TLS.
    private const string NamedStatements = "Named server-side prepared statements work: ZeroPg maps each connection's statement names onto the shared engine.";

    private static readonly Known[] Drivers =
    [
        new("npm", "pg", ["node-postgres: tested in ZeroPg's CI (unnamed and named statements, COPY, LISTEN)."]),
        new("npm", "postgres", ["postgres.js: prepared statements per connection work (per-client statement names)."]),
        new("npm", "@prisma/client", ["Prisma Client (query engine or driver adapter) works at run time."]),
        new("npm", "prisma", ["prisma migrate deploy works; `zeropg serve --migrations` fills _prisma_migrations the same way.",
            "prisma migrate dev's shadow database works: CREATE DATABASE and DROP DATABASE make and remove it (each database runs in an engine of its own; the first takes an engine start, seconds)."]),
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
        new("npm", "@electric-sql/client", ["Electric reads logical replication: ZeroPg streams pgoutput over replication=database connections and exports the slot's snapshot for the initial sync (CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT, SET TRANSACTION SNAPSHOT); Electric itself is not run in ZeroPg's CI."]),
        new("npm", "@rocicorp/zero", ["zero-cache: tested in ZeroPg's CI (@rocicorp/zero 1.9): its initial copy through an exported snapshot, then pgoutput streaming."]),
        new("nuget", "Npgsql", ["Npgsql: ZeroPg's own tests use it (pooling, prepared statements, COPY, cancel)."]),
        new("nuget", "Npgsql.EntityFrameworkCore.PostgreSQL", ["EF Core: migrations apply with `dotnet ef database update` or Database.MigrateAsync(); HasPostgresExtension works."]),
        new("nuget", "Dapper", ["Dapper runs on Npgsql."]),
        new("nuget", "linq2db.PostgreSQL", ["linq2db runs on Npgsql."]),
        new("go", "github.com/jackc/pgx/v5", ["pgx: its cached named statements work (per-client statement names on ZeroPg); no default_query_exec_mode change needed."]),
        new("go", "github.com/jackc/pgx/v4", ["pgx v4: named statements work (per-client statement names)."]),
        new("go", "github.com/lib/pq", ["lib/pq: sslmode defaults to require: start the server with `zeropg serve --tls self-signed`, or add sslmode=disable."], DsnParameter: "sslmode=disable"),
        new("go", "gorm.io/driver/postgres", ["GORM's Postgres driver (pgx): AutoMigrate works."]),
        new("go", "github.com/golang-migrate/migrate/v4", ["golang-migrate holds pg_advisory_lock on one connection while it migrates; keep a pool of 2 or more."]),
        new("cargo", "sqlx", ["sqlx: its named prepared statements work (per-client statement names)."]),
        new("cargo", "tokio-postgres", ["tokio-postgres: named statements work."]),
        new("cargo", "postgres", ["rust-postgres: named statements work."]),
        new("cargo", "diesel", ["Diesel: named statements work (per-client statement names)."]),
        new("python", "psycopg", ["psycopg 3: works; its automatic prepare after 5 runs uses named statements, which ZeroPg maps per connection."]),
        new("python", "psycopg2", ["psycopg2: works."]),
        new("python", "psycopg2-binary", ["psycopg2: works."]),
        new("python", "asyncpg", ["asyncpg: its statement cache uses named statements, mapped per connection on ZeroPg."]),
        new("python", "django", ["Django: migrate works; its CreateExtension operations run CREATE EXTENSION inside the migration's transaction, which works."]),
        new("python", "alembic", ["Alembic: upgrade/downgrade work (transactional DDL)."]),
        new("python", "sqlalchemy", ["SQLAlchemy over psycopg/psycopg2/asyncpg works."]),
        new("ruby", "pg", ["ruby-pg (libpq): works."]),
        new("ruby", "activerecord", ["Rails migrations: enable_extension runs CREATE EXTENSION inside the migration's transaction, which works."]),
        new("ruby", "rails", ["Rails migrations: enable_extension works."]),
        new("php", "ext-pgsql", ["PHP pgsql (libpq): works."]),
        new("php", "ext-pdo_pgsql", ["PDO pgsql (libpq): works."]),
        new("php", "doctrine/dbal", ["Doctrine DBAL over pdo_pgsql works."]),
    ];

    public static IEnumerable<DriverFinding> Find(string relativePath, string text)
    {
        var name = Path.GetFileName(relativePath);
        var dependencies = name switch
        {
            "package.json" => JsonManifest(text, "npm", "dependencies", "devDependencies"),
            "composer.json" => JsonManifest(text, "php", "require", "require-dev"),
            "go.mod" => Lines(text, GoRequire(), "go"),
            "Cargo.toml" => CargoToml(text),
            "Gemfile" => Lines(text, GemLine(), "ruby"),
            "Pipfile" or "pyproject.toml" => Lines(text, PythonQuoted(), "python").Concat(Lines(text, TomlDependencyLine(), "python")),
            _ when name.StartsWith("requirements", StringComparison.Ordinal) && name.EndsWith(".txt", StringComparison.Ordinal) => Lines(text, RequirementLine(), "python"),
            _ when name.EndsWith(".csproj", StringComparison.Ordinal) || name == "Directory.Packages.props" => MsBuild(text),
            _ => [],
        };
        foreach (var (ecosystem, dependency, version, line) in dependencies)
        {
            var known = Drivers.FirstOrDefault(d => d.Ecosystem == ecosystem && SameName(ecosystem, d.Name, dependency));
            if (known is null)
                continue;
            yield return new DriverFinding(known.Name, ecosystem, version, new Evidence(relativePath, line, ExtensionFinder.Snippet(text, IndexOfLine(text, line))), known.Notes)
            {
                DsnParameter = known.DsnParameter,
                Supported = known.Supported,
            };
        }
    }

    /// <summary>Python package names compare as PEP 503 normalises them (psycopg2_binary is psycopg2-binary).</summary>
    private static bool SameName(string ecosystem, string known, string found) => ecosystem == "python"
        ? string.Equals(known, PythonSeparators().Replace(found, "-"), StringComparison.OrdinalIgnoreCase)
        : string.Equals(known, found, StringComparison.OrdinalIgnoreCase);

    /// <summary>package.json / composer.json: the members of the given top-level sections, each at the line of its own name.</summary>
    private static List<(string, string, string?, int)> JsonManifest(string text, string ecosystem, params string[] sections)
    {
        var found = new List<(string, string, string?, int)>();
        var bytes = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            var inSection = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                    continue;
                if (reader.CurrentDepth == 1)
                {
                    inSection = sections.Contains(reader.GetString());
                }
                else if (reader.CurrentDepth == 2 && inSection)
                {
                    var dependency = reader.GetString()!;
                    var line = 1 + bytes.AsSpan(0, (int)reader.TokenStartIndex).Count((byte)'\n');
                    reader.Read();
                    found.Add((ecosystem, dependency, reader.TokenType == JsonTokenType.String ? reader.GetString() : null, line));
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return [];
        }
        return found;
    }

    /// <summary>*.csproj and Directory.Packages.props: PackageReference and (central package management) PackageVersion items.</summary>
    private static IEnumerable<(string, string, string?, int)> MsBuild(string text)
    {
        foreach (Match item in MsBuildPackage().Matches(text))
        {
            var include = MsBuildAttribute("Include").Match(item.Groups["attributes"].Value) is { Success: true } i ? i : MsBuildAttribute("Update").Match(item.Groups["attributes"].Value);
            if (!include.Success)
                continue;
            var version = MsBuildAttribute("Version").Match(item.Groups["attributes"].Value) is { Success: true } v ? v.Groups["value"].Value
                : item.Groups["body"].Success && MsBuildVersionElement().Match(item.Groups["body"].Value) is { Success: true } element ? element.Groups["value"].Value.Trim()
                : null;
            var at = item.Groups["attributes"].Index + include.Groups["value"].Index;
            yield return ("nuget", include.Groups["value"].Value, version, ExtensionFinder.LineOf(text, at));
        }
    }

    private static Regex MsBuildAttribute(string name) => name switch
    {
        "Include" => IncludeAttribute(),
        "Update" => UpdateAttribute(),
        _ => VersionAttribute(),
    };

    /// <summary>
    /// Cargo.toml: keys of the [dependencies] tables ([dev-dependencies], [build-dependencies], [workspace.dependencies],
    /// [target.'cfg(...)'.dependencies]) and [dependencies.NAME] tables; `package = "..."` renames. Keys elsewhere
    /// ([features] postgres = [...], [[bin]] name = ...) are not dependencies.
    /// </summary>
    private static IEnumerable<(string, string, string?, int)> CargoToml(string text)
    {
        var lines = text.Split('\n');
        var inDependencies = false;
        (string Name, string? Version, int Line)? table = null; // a [dependencies.NAME] table being read
        for (var index = 0; index <= lines.Length; index++)
        {
            var line = index < lines.Length ? lines[index].TrimEnd('\r') : "[end]";
            if (TomlHeader().Match(line) is { Success: true } header)
            {
                if (table is { } done)
                    yield return ("cargo", done.Name, done.Version, done.Line);
                table = null;
                var name = header.Groups["table"].Value.Trim();
                inDependencies = !header.Groups["array"].Success && IsCargoDependencyTable(name);
                var dot = name.LastIndexOf('.');
                if (!header.Groups["array"].Success && !inDependencies && dot > 0 && IsCargoDependencyTable(name[..dot].Trim()))
                    table = (name[(dot + 1)..].Trim().Trim('"', '\''), null, index + 1);
                continue;
            }
            if (table is { } current)
            {
                if (TomlKeyValue().Match(line) is { Success: true } pair && pair.Groups["sub"].Success is false)
                {
                    if (pair.Groups["key"].Value == "version" && TomlString().Match(pair.Groups["value"].Value) is { Success: true } version)
                        table = current with { Version = version.Groups["value"].Value };
                    else if (pair.Groups["key"].Value == "package" && TomlString().Match(pair.Groups["value"].Value) is { Success: true } package)
                        table = current with { Name = package.Groups["value"].Value };
                }
                continue;
            }
            if (!inDependencies || TomlKeyValue().Match(line) is not { Success: true } entry)
                continue;
            var dependency = entry.Groups["key"].Value.Trim('"', '\'');
            var value = entry.Groups["value"].Value.TrimStart();
            string? dependencyVersion = null;
            if (entry.Groups["sub"].Success)
            {
                // sqlx.version = "0.8", sqlx.workspace = true, pg.package = "postgres"
                if (entry.Groups["sub"].Value == "version")
                    dependencyVersion = TomlString().Match(value) is { Success: true } s ? s.Groups["value"].Value : null;
                else if (entry.Groups["sub"].Value == "package" && TomlString().Match(value) is { Success: true } renamed)
                    dependency = renamed.Groups["value"].Value;
            }
            else if (value.StartsWith('{'))
            {
                dependencyVersion = InlineVersion().Match(value) is { Success: true } v ? v.Groups["value"].Value : null;
                if (InlinePackage().Match(value) is { Success: true } renamed)
                    dependency = renamed.Groups["value"].Value;
            }
            else if (TomlString().Match(value) is { Success: true } plain && plain.Index == 0)
            {
                dependencyVersion = plain.Groups["value"].Value;
            }
            yield return ("cargo", dependency, dependencyVersion, index + 1);
        }
    }

    private static bool IsCargoDependencyTable(string table)
        => table is "dependencies" or "dev-dependencies" or "build-dependencies"
           || table.EndsWith(".dependencies", StringComparison.Ordinal) || table.EndsWith(".dev-dependencies", StringComparison.Ordinal)
           || table.EndsWith(".build-dependencies", StringComparison.Ordinal);

    /// <summary>Each match of <paramref name="pattern"/>, at the line of its name (a match may start on an earlier, blank line).</summary>
    private static IEnumerable<(string, string, string?, int)> Lines(string text, Regex pattern, string ecosystem)
    {
        foreach (Match match in pattern.Matches(text))
            yield return (ecosystem, match.Groups["name"].Value, match.Groups["version"].Success ? match.Groups["version"].Value : null, ExtensionFinder.LineOf(text, match.Groups["name"].Index));
    }

    private static int IndexOfLine(string text, int line)
    {
        var index = 0;
        for (var current = 1; current < line && index >= 0; current++)
            index = text.IndexOf('\n', index) + 1;
        return Math.Max(0, index);
    }

    [GeneratedRegex("""<(?:PackageReference|PackageVersion)\b(?<attributes>[^>]*?)(?:/>|>(?<body>.*?)</(?:PackageReference|PackageVersion)\s*>)""", RegexOptions.Singleline)]
    private static partial Regex MsBuildPackage();

    [GeneratedRegex("""\bInclude\s*=\s*["'](?<value>[^"']+)["']""")]
    private static partial Regex IncludeAttribute();

    [GeneratedRegex("""\bUpdate\s*=\s*["'](?<value>[^"']+)["']""")]
    private static partial Regex UpdateAttribute();

    [GeneratedRegex("""\bVersion\s*=\s*["'](?<value>[^"']+)["']""")]
    private static partial Regex VersionAttribute();

    [GeneratedRegex("""<Version>(?<value>[^<]+)</Version>""")]
    private static partial Regex MsBuildVersionElement();

    [GeneratedRegex(@"^[ \t]*(?:require[ \t]+)?(?<name>[a-z0-9.\-]+\.[a-z]+/[^\s]+)[ \t]+(?<version>v[^\s]+)", RegexOptions.Multiline)]
    private static partial Regex GoRequire();

    [GeneratedRegex(@"^\s*\[(?<array>\[)?(?<table>[^\[\]]+)\]\]?\s*(?:#.*)?$")]
    private static partial Regex TomlHeader();

    [GeneratedRegex("""^\s*(?<key>[A-Za-z0-9_-]+|"[^"]+")(?:\.(?<sub>[A-Za-z0-9_-]+))?\s*=(?<value>.*)$""")]
    private static partial Regex TomlKeyValue();

    [GeneratedRegex("""["'](?<value>[^"']*)["']""")]
    private static partial Regex TomlString();

    [GeneratedRegex("""\bversion\s*=\s*["'](?<value>[^"']*)["']""")]
    private static partial Regex InlineVersion();

    [GeneratedRegex("""\bpackage\s*=\s*["'](?<value>[^"']*)["']""")]
    private static partial Regex InlinePackage();

    [GeneratedRegex("""^[ \t]*gem[ \t]+['"](?<name>[^'"]+)['"](?:\s*,\s*['"](?<version>[^'"]+)['"])?""", RegexOptions.Multiline)]
    private static partial Regex GemLine();

    [GeneratedRegex(@"^[ \t]*(?<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?[ \t]*(?<version>[<>=!~]=?[ \t]*[^\s;#]+)?", RegexOptions.Multiline)]
    private static partial Regex RequirementLine();

    [GeneratedRegex("""["'](?<name>[A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?<version>[<>=!~]=?[^"']*)?["']""")]
    private static partial Regex PythonQuoted();

    /// <summary>Pipfile and Poetry: `name = "version"` or `name = { version = "...", extras = [...] }`.</summary>
    [GeneratedRegex("""^[ \t]*(?<name>[A-Za-z0-9_.\-]+)[ \t]*=[ \t]*(?:["'](?<version>[^"']*)["']|\{[^}\n]*?\bversion[ \t]*=[ \t]*["'](?<version>[^"']*)["']|\{)""", RegexOptions.Multiline)]
    private static partial Regex TomlDependencyLine();

    [GeneratedRegex("[-_.]+")]
    private static partial Regex PythonSeparators();
}
