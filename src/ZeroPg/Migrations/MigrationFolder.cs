using System.Text.Json;
using System.Text.RegularExpressions;

namespace ZeroPg.Migrations;

/// <summary>The ledger a migration folder is recorded in: the app's own tool's, so that tool later finds nothing to do.</summary>
public enum MigrationKind
{
    /// <summary>prisma/migrations/&lt;timestamp_name&gt;/migration.sql, recorded in _prisma_migrations.</summary>
    Prisma,
    /// <summary>drizzle-kit output (meta/_journal.json + &lt;tag&gt;.sql), recorded in drizzle.__drizzle_migrations.</summary>
    Drizzle,
    /// <summary>Flyway-style V&lt;version&gt;__&lt;description&gt;.sql, recorded in ZeroPg's own ledger.</summary>
    Flyway,
    /// <summary>Ordered .sql files (golang-migrate *.up.sql, dbmate "-- migrate:up", plain numbered files), in ZeroPg's own ledger.</summary>
    Sql,
}

/// <summary>One migration: its id in the ledger, the file and the SQL to run.</summary>
public sealed record MigrationFile(string Id, string Path, string RelativePath)
{
    /// <summary>Drizzle's journal time (milliseconds), recorded as created_at.</summary>
    public long? JournalWhen { get; init; }

    /// <summary>The SQL to run: dbmate files only up to "-- migrate:down".</summary>
    public string ReadSql()
    {
        var text = File.ReadAllText(Path);
        var down = text.IndexOf("-- migrate:down", StringComparison.Ordinal);
        return down >= 0 && text.Contains("-- migrate:up", StringComparison.Ordinal) ? text[..down] : text;
    }
}

/// <summary>A folder of migrations and the order a tool applies them in.</summary>
public sealed partial class MigrationFolder
{
    private MigrationFolder(string path, MigrationKind kind, IReadOnlyList<MigrationFile> files)
    {
        Path = path;
        Kind = kind;
        Files = files;
    }

    public string Path { get; }
    public MigrationKind Kind { get; }
    public IReadOnlyList<MigrationFile> Files { get; }

    /// <summary>The folder's kind and files, or null when it holds no migrations ZeroPg recognises.</summary>
    public static MigrationFolder? Detect(string directory)
    {
        if (!Directory.Exists(directory))
            return null;
        directory = System.IO.Path.GetFullPath(directory);
        var journal = System.IO.Path.Combine(directory, "meta", "_journal.json");
        if (File.Exists(journal))
            return Drizzle(directory, journal);
        var prisma = Directory.EnumerateDirectories(directory)
            .Where(d => File.Exists(System.IO.Path.Combine(d, "migration.sql")))
            .Order(StringComparer.Ordinal)
            .Select(d => new MigrationFile(System.IO.Path.GetFileName(d), System.IO.Path.Combine(d, "migration.sql"),
                System.IO.Path.GetFileName(d) + "/migration.sql"))
            .ToList();
        if (prisma.Count > 0)
            return PrismaProvider(directory) is null or "postgresql" or "postgres" ? new MigrationFolder(directory, MigrationKind.Prisma, prisma) : null;
        var sql = Directory.EnumerateFiles(directory, "*.sql").Select(f => System.IO.Path.GetFileName(f)!).ToList();
        var flyway = sql.Where(n => FlywayName().IsMatch(n)).ToList();
        if (flyway.Count > 0)
        {
            return new MigrationFolder(directory, MigrationKind.Flyway, [.. flyway
                .Select(n => (Name: n, Version: FlywayName().Match(n).Groups["version"].Value))
                .OrderBy(f => f.Version, VersionComparer.Instance)
                .Select(f => new MigrationFile(f.Version, System.IO.Path.Combine(directory, f.Name), f.Name))]);
        }
        var ordered = sql.Where(n => char.IsDigit(n[0]) && !n.EndsWith(".down.sql", StringComparison.OrdinalIgnoreCase)).ToList();
        if (ordered.Count == 0)
            return null;
        return new MigrationFolder(directory, MigrationKind.Sql, [.. ordered
            .OrderBy(n => n, VersionComparer.Instance)
            .Select(n => new MigrationFile(n, System.IO.Path.Combine(directory, n), n))]);
    }

    /// <summary>
    /// Migrations that fail with the folder's own tool on any Postgres, because a statement Postgres refuses in a
    /// transaction block (CREATE INDEX CONCURRENTLY, VACUUM...) would run in one: drizzle's migrator applies all pending
    /// migrations in one transaction, and Prisma sends a migration file as one query (one implicit transaction), so there
    /// such a statement must be the file's only one. Flyway-style and plain .sql folders run such a file statement by
    /// statement (<see cref="MigrationRunner"/>). `zeropg check` reports these; `serve --migrations` then fails on them.
    /// </summary>
    public IEnumerable<(MigrationFile File, int Line, string Statement, string Message)> TransactionProblems()
    {
        if (Kind is not (MigrationKind.Prisma or MigrationKind.Drizzle))
            yield break;
        foreach (var file in Files)
        {
            if (!File.Exists(file.Path))
                continue;
            var sql = Kind == MigrationKind.Drizzle ? File.ReadAllText(file.Path).Replace("--> statement-breakpoint", ";") : File.ReadAllText(file.Path);
            var statements = SqlStatements.Split(sql);
            foreach (var statement in statements)
            {
                // ALTER TYPE ... ADD VALUE runs in a transaction since Postgres 12 (only its use in the same one fails): Prisma emits it so.
                if (SqlStatements.MustRunOutsideTransaction(statement.Text) is not { } what || what == SqlStatements.AddEnumValue)
                    continue;
                if (Kind == MigrationKind.Drizzle)
                    yield return (file, statement.Line, statement.Text, $"{what} cannot run inside a transaction block (25001), and drizzle's migrator applies every pending migration in one transaction: it fails on any Postgres. Run it outside drizzle's migrator, or drop CONCURRENTLY.");
                else if (statements.Count > 1)
                    yield return (file, statement.Line, statement.Text, $"{what} cannot run inside a transaction block (25001), and Prisma sends a migration file as one query, one implicit transaction: it fails on any Postgres unless it is the file's only statement. Move it into a migration of its own.");
            }
        }
    }

    /// <summary>Like <see cref="Detect"/>, but a folder without migrations is an error that says what was expected.</summary>
    public static MigrationFolder Open(string directory)
        => Detect(directory) ?? throw new InvalidOperationException(
            $"{directory} holds no migrations ZeroPg recognises: a Prisma folder (<name>/migration.sql), drizzle-kit output (meta/_journal.json), " +
            "Flyway-style V<version>__<name>.sql files, or .sql files whose names start with their order (0001_init.sql, 20240101_x.up.sql).");

    /// <summary>The provider in Prisma's migration_lock.toml (a folder of MySQL or SQLite migrations is not for Postgres).</summary>
    private static string? PrismaProvider(string directory)
    {
        var lockFile = System.IO.Path.Combine(directory, "migration_lock.toml");
        if (!File.Exists(lockFile))
            return null;
        var match = Regex.Match(File.ReadAllText(lockFile), "provider\\s*=\\s*\"([^\"]+)\"");
        return match.Success ? match.Groups[1].Value : null;
    }

    private static MigrationFolder? Drizzle(string directory, string journal)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(journal));
        if (document.RootElement.TryGetProperty("dialect", out var dialect) && dialect.GetString() is { } name && name is not ("postgresql" or "pg" or "postgres"))
            return null; // drizzle output for MySQL or SQLite
        var files = new List<MigrationFile>();
        foreach (var entry in document.RootElement.GetProperty("entries").EnumerateArray())
        {
            var tag = entry.GetProperty("tag").GetString()!;
            files.Add(new MigrationFile(tag, System.IO.Path.Combine(directory, tag + ".sql"), tag + ".sql")
            {
                JournalWhen = entry.TryGetProperty("when", out var when) ? when.GetInt64() : null,
            });
        }
        return new MigrationFolder(directory, MigrationKind.Drizzle, files);
    }

    [GeneratedRegex(@"^V(?<version>[0-9][0-9._]*)__.+\.sql$", RegexOptions.IgnoreCase)]
    private static partial Regex FlywayName();

    /// <summary>Orders "2" before "10" and "1.2" before "1.10", as Flyway and people numbering files expect.</summary>
    private sealed partial class VersionComparer : IComparer<string>
    {
        public static readonly VersionComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Parts().Matches(x ?? "");
            var b = Parts().Matches(y ?? "");
            for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
            {
                var left = a[i].Value;
                var right = b[i].Value;
                var order = char.IsDigit(left[0]) && char.IsDigit(right[0])
                    ? decimal.Parse(left.Length > 28 ? left[..28] : left).CompareTo(decimal.Parse(right.Length > 28 ? right[..28] : right))
                    : string.CompareOrdinal(left, right);
                if (order != 0)
                    return order;
            }
            return a.Count.CompareTo(b.Count) is var byCount && byCount != 0 ? byCount : string.CompareOrdinal(x, y);
        }

        [GeneratedRegex(@"\d+|[^\d._-]+")]
        private static partial Regex Parts();
    }
}
